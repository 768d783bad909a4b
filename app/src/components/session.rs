//! Who is signed in, shared through context. It is fetched again on every
//! navigation, so signing in or out, a role change or an ended session shows
//! at the next click without a page reload.

use crate::api::session::whoami;
use crate::errors::AppError;
use crate::model::CurrentUser;
use leptos::prelude::*;
use leptos_router::hooks::use_location;

pub type UserResult = Result<Option<CurrentUser>, AppError>;

#[derive(Clone, Copy)]
pub struct CurrentUserResource(pub Resource<UserResult>);

/// Call inside the `<Router>`.
pub fn provide_current_user() {
    let pathname = use_location().pathname;
    let user = Resource::new(move || pathname.get(), |_| whoami());
    provide_context(CurrentUserResource(user));
}

pub fn use_current_user() -> Resource<UserResult> {
    expect_context::<CurrentUserResource>().0
}
