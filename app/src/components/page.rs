//! The frame the pages share, so that a page holds only what is its own
//! (its fields, columns and cells): [`Page`] gives a page its title and its
//! guard; [`Cards`] are the links of a landing page; [`Loaded`] shows what a
//! resource loaded, or the error in its place; [`DataTable`] is the
//! `table.data` with its column headings, a row per item; [`SubmitRow`] is
//! the button under a form; [`url_search`] and [`SearchForm`] keep a page's
//! search in its URL; and [`submissions`] is what a list reloads on after
//! the page's forms change something.

use super::guard::{Guarded, GuardedProps};
use super::notice::ErrorBox;
use crate::errors::AppError;
use crate::i18n::{common::Common, use_texts};
use crate::model::{CurrentUser, Section};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;

/// A page titled `title` that only users allowed into `section` see (any
/// signed-in user without one; see [`Guarded`]); the body gets the user.
#[component]
pub fn Page<F, IV>(
    title: &'static str,
    #[prop(optional)] section: Option<Section>,
    children: F,
) -> impl IntoView
where
    F: FnOnce(CurrentUser) -> IV + Send + 'static,
    IV: IntoView + 'static,
{
    view! {
        <Title text=title />
        {Guarded(GuardedProps { section, children })}
    }
}

/// Links to other pages as cards: where each goes, its name, and what it
/// is for.
#[component]
pub fn Cards(cards: Vec<(&'static str, &'static str, &'static str)>) -> impl IntoView {
    view! {
        <div class="cards">
            {cards
                .into_iter()
                .map(|(href, name, what)| {
                    view! {
                        <a class="card" href=href>
                            <h2>{name}</h2>
                            <p>{what}</p>
                        </a>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// What `resource` loaded, shown by `children`, or its error in its place.
/// `loading` shows until the first answer; a reload keeps the old content
/// until the new one is there (a `Transition`), so a page that refreshes
/// itself does not flicker.
#[component]
pub fn Loaded<T, F, IV>(
    resource: Resource<Result<T, AppError>>,
    /// What shows until the first answer (the common "Loading…" by default).
    #[prop(optional)]
    loading: Option<&'static str>,
    children: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> IV + Clone + Send + Sync + 'static,
    IV: IntoView + 'static,
{
    let loading = loading.unwrap_or_else(|| use_texts::<Common>().loading());
    view! {
        <Transition fallback=move || view! { <p class="muted">{loading}</p> }>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match resource.await {
                        Ok(value) => children(value).into_any(),
                        Err(e) => view! { <ErrorBox error=e /> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// A table of `rows`, one `<tr>` each made by `row`, under the column
/// headings `head`; the headings named in `num` are of columns of figures
/// (right-aligned by the stylesheet's `num`). Without rows, the line
/// `empty` instead, where there is one.
#[component]
pub fn DataTable<T, F, IV>(
    /// The table's classes: `data`, plus any of its own.
    #[prop(default = "data")]
    class: &'static str,
    /// Column headings (a static list, or a `Vec` of translated ones).
    #[prop(into)]
    head: Vec<&'static str>,
    #[prop(optional, into)] num: Vec<&'static str>,
    #[prop(optional)] empty: Option<&'static str>,
    rows: Vec<T>,
    row: F,
) -> impl IntoView
where
    F: FnMut(T) -> IV,
    IV: IntoView,
{
    if let Some(empty) = empty.filter(|_| rows.is_empty()) {
        return view! { <p class="muted">{empty}</p> }.into_any();
    }
    let headings = head
        .iter()
        .map(|&h| match h {
            "" => view! { <th></th> }.into_any(),
            h if num.contains(&h) => view! { <th class="num">{h}</th> }.into_any(),
            h => view! { <th>{h}</th> }.into_any(),
        })
        .collect_view();
    view! {
        <table class=class>
            <thead>
                <tr>{headings}</tr>
            </thead>
            <tbody>{rows.into_iter().map(row).collect_view()}</tbody>
        </table>
    }
    .into_any()
}

/// The row under a form's fields with its one button, `disabled` while it
/// may not be pressed (while the last submission is on its way, or for a
/// deleted mailbox).
#[component]
pub fn SubmitRow(
    label: &'static str,
    #[prop(optional, into)] disabled: Signal<bool>,
) -> impl IntoView {
    view! {
        <div class="form-actions">
            <button type="submit" class="primary" disabled=disabled>
                {label}
            </button>
        </div>
    }
}

/// A page's search as its URL holds it, made by `read` from the query
/// parameters: the search forms are plain GET forms, so a search can be
/// bookmarked or shared.
pub fn url_search<T>(read: impl Fn(&ParamsMap) -> T + Send + Sync + 'static) -> Memo<T>
where
    T: PartialEq + Send + Sync + 'static,
{
    let params = use_query_map();
    Memo::new(move |_| params.with(&read))
}

/// The query parameter `key`, empty when the URL has none.
pub fn param(params: &ParamsMap, key: &str) -> String {
    params.get(key).unwrap_or_default()
}

/// A page's search form: a GET form (see [`url_search`]) of the fields in
/// `children` and the button `button`.
#[component]
pub fn SearchForm(button: &'static str, children: Children) -> impl IntoView {
    view! {
        <Form method="GET" action="" attr:class="filters" attr:role="search">
            {children()}
            <SubmitRow label=button />
        </Form>
    }
}

/// How many times the forms of `actions` (their `version()`s) have been
/// submitted, all together: a `Resource` keyed on it loads again after
/// each submission of any of them.
pub fn submissions<const N: usize>(actions: [RwSignal<usize>; N]) -> usize {
    actions.iter().map(|version| version.get()).sum()
}
