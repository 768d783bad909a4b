//! Messages above or below forms: errors, successes, one-time secrets.

use crate::errors::AppError;
use crate::i18n::{common::Common, use_texts};
use leptos::prelude::*;

/// The error of the last submission of an action, if any.
#[component]
pub fn ActionError<T>(#[prop(into)] result: Signal<Option<Result<T, AppError>>>) -> impl IntoView
where
    T: Send + Sync + 'static,
{
    move || {
        result.with(|r| match r {
            Some(Err(e)) => Some(view! { <ErrorBox error=e.clone() /> }),
            _ => None,
        })
    }
}

#[component]
pub fn ErrorBox(error: AppError) -> impl IntoView {
    view! {
        <div class="notice error" role="alert">
            {use_texts::<Common>().error(&error)}
        </div>
    }
}

#[component]
pub fn SuccessBox(#[prop(into)] message: String) -> impl IntoView {
    view! {
        <div class="notice success" role="status">
            {message}
        </div>
    }
}

/// A password that is shown once and never again, with a button that
/// copies it (the clipboard API; where the browser refuses, the text is
/// selected for Ctrl+C instead). Until the page's WASM has loaded (or
/// without JavaScript) the button is not there and the note says how to
/// copy by hand: a click selects the whole password.
#[component]
pub fn OneTimeSecret(
    #[prop(into)] username: String,
    #[prop(into)] password: String,
) -> impl IntoView {
    let t = use_texts::<NoticeTexts>();
    let common = use_texts::<Common>();
    let code = NodeRef::<leptos::html::Code>::new();
    let said = RwSignal::new(None::<&'static str>);
    // Effects run in the browser only, once the page has hydrated.
    let hydrated = RwSignal::new(false);
    Effect::new(move || hydrated.set(true));
    let copy = move |_| {
        let Some(el) = code.get() else { return };
        let text = el.text_content().unwrap_or_default();
        leptos::task::spawn_local(async move {
            if copy_text(&text).await {
                said.set(Some(common.copied()));
            } else {
                select_text(&el);
                said.set(Some(t.select_to_copy()));
            }
        });
    };
    view! {
        <div class="notice secret" role="status">
            <p>
                {t.new_password_for()} " " <strong>{username}</strong>
                ". " {t.shown_once()}
            </p>
            <code class="secret-value" data-testid="one-time-password" node_ref=code>{password}</code>
            " "
            {move || {
                hydrated
                    .get()
                    .then(|| {
                        view! {
                            <button type="button" class="small" on:click=copy>
                                {common.copy()}
                            </button>
                        }
                    })
            }}
            " "
            <span class="muted" aria-live="polite">
                {move || said.get().or((!hydrated.get()).then(|| t.click_to_select()))}
            </span>
        </div>
    }
}

/// Writes `text` to the clipboard (`navigator.clipboard.writeText`, read
/// dynamically: older browsers and plain-HTTP pages have none); false when
/// it could not.
async fn copy_text(text: &str) -> bool {
    use web_sys::js_sys::{Function, Promise, Reflect};
    use web_sys::wasm_bindgen::{JsCast, JsValue};
    let get = |from: &JsValue, key: &str| {
        Reflect::get(from, &JsValue::from_str(key))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
    };
    let Some(clipboard) = get(&window(), "navigator").and_then(|n| get(&n, "clipboard")) else {
        return false;
    };
    let Some(write) = get(&clipboard, "writeText").and_then(|f| f.dyn_into::<Function>().ok())
    else {
        return false;
    };
    match write
        .call1(&clipboard, &JsValue::from_str(text))
        .map(|p| p.dyn_into::<Promise>())
    {
        Ok(Ok(promise)) => wasm_bindgen_futures::JsFuture::from(promise).await.is_ok(),
        _ => false,
    }
}

/// Selects the text of `el`, for the person to copy it by hand.
fn select_text(el: &web_sys::Element) {
    use web_sys::js_sys::{Function, Reflect};
    use web_sys::wasm_bindgen::{JsCast, JsValue};
    let call = |on: &JsValue, name: &str, arg: Option<&JsValue>| {
        let f = Reflect::get(on, &JsValue::from_str(name))
            .ok()?
            .dyn_into::<Function>()
            .ok()?;
        match arg {
            Some(a) => f.call1(on, a).ok(),
            None => f.call0(on).ok(),
        }
    };
    if let Some(selection) = call(&window(), "getSelection", None) {
        call(&selection, "selectAllChildren", Some(el));
    }
}

crate::texts! {
    /// Notices under forms.
    pub struct NoticeTexts {
        new_password_for = "New password for", "Nova senha de";
        shown_once = "Copy it now: it is shown only once.", "Copie-a agora: ela é mostrada só uma vez.";
        select_to_copy = "Selected: press Ctrl+C to copy it.", "Selecionada: tecle Ctrl+C para copiá-la.";
        click_to_select = "Click it to select it, then press Ctrl+C.", "Clique nela para selecioná-la e tecle Ctrl+C.";
    }
}
