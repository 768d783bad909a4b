//! Who is signed in, fetched once per page load and shared through context.

use crate::api::session::whoami;
use crate::errors::AppError;
use crate::model::CurrentUser;
use leptos::prelude::*;

pub type UserResult = Result<Option<CurrentUser>, AppError>;

#[derive(Clone, Copy)]
pub struct CurrentUserResource(pub Resource<UserResult>);

pub fn provide_current_user() {
    let user = Resource::new(|| (), |_| whoami());
    provide_context(CurrentUserResource(user));
}

pub fn use_current_user() -> Resource<UserResult> {
    expect_context::<CurrentUserResource>().0
}
