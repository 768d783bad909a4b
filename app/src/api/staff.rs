//! Staff administration (role `admin`).

use crate::errors::AppError;
use crate::model::{IssuedPassword, SignInLock, StaffMember};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::{model::Section, server::auth::require, state::app_state};

#[server(endpoint = "staff/list", output = crate::api::TextJson)]
pub async fn list_staff() -> Result<Vec<StaffMember>, AppError> {
    require(Section::Admin.roles()).await?;
    crate::server::staff::list(&app_state()?.db).await
}

/// Creates an account; an empty `password` makes the server generate one,
/// returned once.
#[server(endpoint = "staff/create", output = crate::api::TextJson)]
#[allow(clippy::too_many_arguments)]
pub async fn create_staff(
    username: String,
    #[server(default)] display_name: String,
    #[server(default)] password: String,
    #[server(default)] admin: bool,
    #[server(default)] support: bool,
    #[server(default)] security: bool,
    #[server(default)] manager: bool,
) -> Result<IssuedPassword, AppError> {
    use crate::model::Roles;
    use crate::server::staff::{self, NewStaff};
    let me = require(Section::Admin.roles()).await?;
    let new = NewStaff {
        username,
        display_name,
        roles: Roles::from_flags(admin, support, security, manager),
        password: Some(password),
    };
    staff::create(&app_state()?.db, &me.actor(), new).await
}

#[server(endpoint = "staff/set_roles", output = crate::api::TextJson)]
pub async fn set_staff_roles(
    id: i32,
    #[server(default)] admin: bool,
    #[server(default)] support: bool,
    #[server(default)] security: bool,
    #[server(default)] manager: bool,
) -> Result<StaffMember, AppError> {
    use crate::model::Roles;
    let me = require(Section::Admin.roles()).await?;
    let roles = Roles::from_flags(admin, support, security, manager);
    crate::server::staff::set_roles(&app_state()?.db, &me.actor(), id, roles).await
}

#[server(endpoint = "staff/set_active", output = crate::api::TextJson)]
pub async fn set_staff_active(id: i32, active: bool) -> Result<StaffMember, AppError> {
    let me = require(Section::Admin.roles()).await?;
    crate::server::staff::set_active(&app_state()?.db, &me.actor(), id, active).await
}

/// Sets a generated password, returned once; the member's sessions end.
#[server(endpoint = "staff/reset_password", output = crate::api::TextJson)]
pub async fn reset_staff_password(id: i32) -> Result<IssuedPassword, AppError> {
    let me = require(Section::Admin.roles()).await?;
    crate::server::staff::reset_password(&app_state()?.db, &me.actor(), id).await
}

/// The sign-in locks and slow-downs in force now, the most attempts first.
#[server(endpoint = "staff/locks", output = crate::api::TextJson)]
pub async fn list_sign_in_locks() -> Result<Vec<SignInLock>, AppError> {
    require(Section::Admin.roles()).await?;
    let state = app_state()?;
    crate::server::staff::sign_in_locks(&state.db, &state.auth.throttle).await
}

/// Lifts one sign-in lock or slow-down (audited as `auth.unlock`).
#[server(endpoint = "staff/clear_lock", output = crate::api::TextJson)]
pub async fn clear_sign_in_lock(key: String) -> Result<(), AppError> {
    let me = require(Section::Admin.roles()).await?;
    crate::server::staff::clear_sign_in_lock(&app_state()?.db, &me.actor(), &key).await
}

crate::texts! {
    /// What the server says about staff accounts, sign-in, passwords and
    /// API tokens (validation errors, conflicts, locks), in the caller's
    /// language (`StaffMessages::caller`).
    pub struct StaffMessages {
        username_rules = "The username must be 2 to 64 characters: letters, digits, '.', '_' or '-', starting with a letter or digit.", "O nome de usuário deve ter de 2 a 64 caracteres: letras, dígitos, '.', '_' ou '-', começando com letra ou dígito.";
        choose_role = "Choose at least one role.", "Escolha pelo menos um papel.";
        display_name_too_long = "The display name is too long (128 characters at most).", "O nome de exibição é longo demais (no máximo 128 caracteres).";
        last_admin = "This is the last active administrator; give another account the admin role first.", "Este é o último administrador ativo; dê antes o papel de administrador a outra conta.";
        disable_self = "You cannot disable your own account.", "Você não pode desativar a sua própria conta.";
        lock_gone = "That sign-in lock (it may have ended already)", "Esse bloqueio de login (talvez já tenha terminado)";
        current_wrong = "The current password is not right.", "A senha atual não está certa.";
        passwords_differ = "The two new passwords differ.", "As duas novas senhas são diferentes.";
        token_revoked = "That token is already revoked.", "Esse token já foi revogado.";
    }
    formats {
        username_taken(u: &str) = format!("The username {u} is already taken."), format!("O nome de usuário {u} já está em uso.");
        staff_member(id: i32) = format!("Staff member #{id}"), format!("O membro da equipe nº {id}");
        username_too_long(max: &str) = format!("The username is too long ({max} bytes at most)."), format!("O nome de usuário é longo demais (no máximo {max} bytes).");
        password_too_long(max: &str) = format!("The password is too long ({max} bytes at most)."), format!("A senha é longa demais (no máximo {max} bytes).");
        current_too_long(max: &str) = format!("The current password is too long ({max} bytes at most)."), format!("A senha atual é longa demais (no máximo {max} bytes).");
        password_too_short(min: usize) = format!("The password must have at least {min} characters."), format!("A senha deve ter pelo menos {min} caracteres.");
        more_minutes(n: u64) =
            if n == 1 { "1 more minute".to_string() } else { format!("{n} more minutes") },
            if n == 1 { "mais 1 minuto".to_string() } else { format!("mais {n} minutos") };
        sign_in_locked(more: &str) =
            format!("Too many failed sign-in attempts. Sign-in is locked for {more}; try again later or ask an administrator."),
            format!("Tentativas de login malsucedidas demais. O login está bloqueado por {more}; tente de novo mais tarde ou peça ajuda a um administrador.");
        password_change_locked(more: &str) =
            format!("Too many wrong current passwords. Changing the password is locked for {more}; try again later or ask an administrator."),
            format!("Senhas atuais erradas demais. A troca de senha está bloqueada por {more}; tente de novo mais tarde ou peça ajuda a um administrador.");
        token_not_found(id: i32) = format!("API token {id}"), format!("O token de API {id}");
        role_unknown(role: &str) = format!("Unknown role {role:?}: choose admin, support, security or manager."), format!("Papel desconhecido {role:?}: escolha admin, support, security ou manager.");
    }
}

#[cfg(feature = "ssr")]
impl StaffMessages {
    /// The texts in the language of the request being answered.
    pub fn caller() -> Self {
        StaffMessages(crate::server::locale::request_lang())
    }

    /// `n` as the language writes numbers (`1.024` / `1,024`).
    pub fn number(self, n: usize) -> String {
        crate::i18n::Locale {
            lang: self.0,
            ..Default::default()
        }
        .number(n as u64)
    }
}
