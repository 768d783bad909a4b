//! What every provisioning form shows around its fields: the message for
//! a field beside it, an error that is not about one field above the
//! buttons, and after success the one-line summary (plus a generated
//! password, once).

use super::notice::{ErrorBox, OneTimeSecret, SuccessBox};
use crate::errors::AppError;
use crate::i18n::{common::Common, use_texts};
use crate::provision::RequestDone;
use leptos::prelude::*;

crate::texts! {
    /// Around the provisioning forms.
    pub struct RequestFormTexts {
        correct_fields = "Please correct the fields marked below.", "Corrija os campos marcados abaixo.";
        reverted = "Not saved; the row shows the stored values again.", "Não foi salvo; a linha voltou aos valores gravados.";
        saved = "Saved.", "Salvo.";
    }
}

type Outcome = Signal<Option<Result<RequestDone, AppError>>>;

/// The message for `field` of the last submission, under its input.
#[component]
pub fn FieldMessage(#[prop(into)] result: Outcome, field: &'static str) -> impl IntoView {
    move || {
        result.with(|r| match r {
            Some(Err(e)) => e.field_message(field).map(|m| {
                view! {
                    <span class="field-error" role="alert" data-field=field>
                        {m.to_string()}
                    </span>
                }
            }),
            _ => None,
        })
    }
}

/// A labelled input of a request form (the children), with the message
/// for its `field` of the last submission under it.
#[component]
pub fn Field(
    label: &'static str,
    #[prop(into)] result: Outcome,
    field: &'static str,
    children: Children,
) -> impl IntoView {
    view! {
        <label>
            {label}
            {children()}
            <FieldMessage result field />
        </label>
    }
}

/// After a submission: the error (field errors only as a pointer to the
/// fields, unless `show_fields`: for forms without per-field messages),
/// or the summary and any generated password.
#[component]
pub fn RequestOutcome(
    #[prop(into)] result: Outcome,
    #[prop(optional)] show_fields: bool,
) -> impl IntoView {
    move || {
        result.with(|r| match r {
            Some(Err(AppError::Fields(_))) if !show_fields => Some(
                view! { <div class="notice error" role="alert">{use_texts::<RequestFormTexts>().correct_fields()}</div> }
                    .into_any(),
            ),
            Some(Err(e)) => Some(view! { <ErrorBox error=e.clone() /> }.into_any()),
            Some(Ok(done)) => {
                let warnings = done
                    .warnings
                    .iter()
                    .map(|w| view! { <div class="notice secret" role="alert">{w.clone()}</div> })
                    .collect_view();
                Some(match &done.secret {
                    Some(secret) => view! {
                        <SuccessBox message=done.summary.clone() />
                        {warnings}
                        <OneTimeSecret username=done.target.clone() password=secret.clone() />
                    }
                    .into_any(),
                    None => view! { <SuccessBox message=done.summary.clone() /> {warnings} }.into_any(),
                })
            }
            None => None,
        })
    }
}

/// A click handler that asks `question` first and cancels the submit on "no".
/// Without JavaScript the form submits directly.
pub fn confirm_first(question: Option<String>) -> impl Fn(leptos::ev::MouseEvent) + 'static {
    move |ev| {
        if let Some(q) = &question
            && !window().confirm_with_message(q).unwrap_or(false)
        {
            ev.prevent_default();
        }
    }
}

/// What a one-button form posts: the hidden `name=value` naming its
/// subject, and the small button `label`, which asks `ask` first.
#[component]
pub fn ConfirmedSubmit(
    name: &'static str,
    #[prop(into)] value: String,
    label: &'static str,
    ask: String,
) -> impl IntoView {
    view! {
        <input type="hidden" name=name value=value />
        <button type="submit" class="small" on:click=confirm_first(Some(ask))>
            {label}
        </button>
    }
}

/// A form that empties itself after each successful submission of `result`.
pub fn cleared_on_success<T, E>(
    result: impl Fn() -> Option<Result<T, E>> + 'static,
) -> NodeRef<leptos::html::Form> {
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if matches!(result(), Some(Ok(_)))
            && let Some(f) = form.get()
        {
            f.reset();
        }
    });
    form
}

/// The inline forms of a table's rows share one action; this remembers
/// which row sent the last submission, so that its outcome shows on that
/// row (not above the table, out of sight) and a failed edit puts the row
/// back to its stored values. Give the row `on:submit=edits.submitted(key)`
/// (submit events bubble up from the row's form) and a [`RowOutcome`].
#[derive(Clone, Copy)]
pub struct RowEdits {
    result: Outcome,
    last: RwSignal<Option<String>>,
}

impl RowEdits {
    pub fn new(result: impl Into<Outcome>) -> Self {
        RowEdits {
            result: result.into(),
            last: RwSignal::new(None),
        }
    }

    /// The row `key`'s submit handler.
    pub fn submitted(self, key: String) -> impl Fn(leptos::ev::SubmitEvent) + 'static {
        move |_| self.last.set(Some(key.clone()))
    }

    /// The last outcome, if it was row `key`'s: `Ok(())` or the message.
    fn outcome_of(self, key: &str) -> Option<Result<(), String>> {
        if self.last.with(|l| l.as_deref() != Some(key)) {
            return None;
        }
        self.result.with(|r| match r {
            Some(Ok(_)) => Some(Ok(())),
            Some(Err(e)) => Some(Err(use_texts::<Common>().error(e))),
            None => None,
        })
    }
}

/// Row `key`'s outcome under its form: the error (and the form `form`
/// reset to the stored values), or a short "saved".
#[component]
pub fn RowOutcome(
    edits: RowEdits,
    #[prop(into)] key: String,
    #[prop(optional)] form: Option<NodeRef<leptos::html::Form>>,
) -> impl IntoView {
    let t = use_texts::<RequestFormTexts>();
    let key2 = key.clone();
    Effect::new(move |_| {
        if matches!(edits.outcome_of(&key2), Some(Err(_)))
            && let Some(f) = form.and_then(|f| f.get())
        {
            f.reset();
        }
    });
    move || match edits.outcome_of(&key) {
        Some(Err(message)) => Some(
            view! {
                <span class="field-error row-error" role="alert">
                    {message} " " {form.is_some().then(|| t.reverted())}
                </span>
            }
            .into_any(),
        ),
        Some(Ok(())) => {
            Some(view! { <span class="row-saved" role="status">{t.saved()}</span> }.into_any())
        }
        None => None,
    }
}

/// What the server kept of a plain form post (one sent before the page's
/// WASM had loaded, or without JavaScript) for the page it came from: the
/// server function's answer and, when it refused, what was typed (never a
/// password, each value cut short). The post's redirect URL carries none of
/// it: it lives in the poster's session until that page is next loaded
/// (`crate::server::flash`).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Flash {
    /// The server function's path, e.g. `/api/provision/mailbox_create`.
    pub action: String,
    /// The path of the page the form was on (its `Referer`).
    pub page: String,
    /// When it was posted (UTC seconds).
    pub at: i64,
    /// Whether the server function succeeded.
    pub ok: bool,
    /// Its answer as it sent it (JSON), unless that was too long to keep.
    pub outcome: Option<String>,
    /// What was typed, when it refused: `(field name, value)`.
    pub typed: Vec<(String, String)>,
}

/// A page's [`Flash`], read once when the page is built (on the server; the
/// browser gets the same value with the page, so hydration agrees). Give
/// each of the page's actions to [`PlainPost::outcome`] and refill a
/// refused form from [`PlainPost::typed`].
#[derive(Clone, Copy)]
pub struct PlainPost(StoredValue<Option<Flash>>);

impl PlainPost {
    /// This page's flash, if the last plain form post was sent from it.
    pub fn take() -> Self {
        let flash = leptos::prelude::SharedValue::new(|| {
            #[cfg(feature = "ssr")]
            {
                crate::server::flash::for_this_page()
            }
            #[cfg(not(feature = "ssr"))]
            {
                None::<Flash>
            }
        })
        .into_inner();
        PlainPost(StoredValue::new(flash))
    }

    /// The flash, if it is `S`'s.
    fn of<S: leptos::server_fn::ServerFn>(self) -> Option<Flash> {
        self.0
            .with_value(|f| f.as_ref().filter(|f| f.action == S::PATH).cloned())
    }

    /// `action`'s answer to the plain post, if it was `action`'s: also made
    /// the action's value, so the page shows it as it shows an
    /// `ActionForm`'s answer (the summary, the generated password once,
    /// the error beside its field).
    pub fn outcome<S>(self, action: ServerAction<S>) -> Option<Result<S::Output, AppError>>
    where
        S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
        S::Output: serde::de::DeserializeOwned + Clone + Send + Sync + 'static,
    {
        let flash = self.of::<S>()?;
        let text = flash.outcome?;
        let outcome = if flash.ok {
            Ok(serde_json::from_str::<S::Output>(&text).ok()?)
        } else {
            Err(serde_json::from_str::<AppError>(&text).ok()?)
        };
        action.value().set(Some(outcome.clone()));
        Some(outcome)
    }

    /// What was typed into `action`'s form before the server refused its
    /// plain post, until `action` is next sent (with WASM).
    pub fn typed<S>(self, action: ServerAction<S>) -> Typed
    where
        S: leptos::server_fn::ServerFn + Clone + Send + Sync + 'static,
        S::Output: Send + Sync + 'static,
        S::Error: Send + Sync + 'static,
    {
        Typed {
            typed: StoredValue::new(self.of::<S>().map(|f| f.typed).unwrap_or_default()),
            sent: action.version(),
        }
    }
}

/// What was typed into a refused form, to put back into its fields.
#[derive(Clone, Copy)]
pub struct Typed {
    typed: StoredValue<Vec<(String, String)>>,
    /// The action's submissions since the page loaded.
    sent: RwSignal<usize>,
}

impl Typed {
    /// Whether the form was refused with something typed (and not sent
    /// again since).
    pub fn refused(self) -> bool {
        self.sent.get_untracked() == 0 && self.typed.with_value(|t| !t.is_empty())
    }

    /// The value typed into `name` ("" when none).
    pub fn value(self, name: &str) -> String {
        self.value_or(name, String::new())
    }

    /// The value typed into `name` after a refusal, else `stored`.
    pub fn value_or(self, name: &str, stored: String) -> String {
        if !self.refused() {
            return stored;
        }
        self.typed.with_value(|t| {
            t.iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        })
    }

    /// Whether checkbox `name` was ticked (after a refusal), else `stored`.
    pub fn checked_or(self, name: &str, stored: bool) -> bool {
        if !self.refused() {
            return stored;
        }
        self.typed
            .with_value(|t| t.iter().any(|(n, v)| n == name && v != "false"))
    }
}
