//! Staff administration: create accounts, change roles, disable or enable,
//! reset passwords, lift sign-in locks. Every form also works without
//! JavaScript.

use crate::api::staff::{
    ClearSignInLock, CreateStaff, ResetStaffPassword, SetStaffActive, SetStaffRoles,
    list_sign_in_locks, list_staff,
};
use crate::components::notice::{ActionError, OneTimeSecret, SuccessBox};
use crate::components::page::{DataTable, Loaded, Page, SubmitRow, submissions};
use crate::components::request_form::{cleared_on_success, confirm_first};
use crate::model::{IssuedPassword, Role, Section, SignInLock, StaffMember};
use leptos::prelude::*;

#[component]
pub fn StaffPage() -> impl IntoView {
    view! { <Page title="Staff" section=Section::Admin children=|_| view! { <StaffAdmin /> } /> }
}

#[component]
fn StaffAdmin() -> impl IntoView {
    let create = ServerAction::<CreateStaff>::new();
    let set_roles = ServerAction::<SetStaffRoles>::new();
    let set_active = ServerAction::<SetStaffActive>::new();
    let reset = ServerAction::<ResetStaffPassword>::new();
    let staff = Resource::new(
        move || {
            submissions([
                create.version(),
                set_roles.version(),
                set_active.version(),
                reset.version(),
            ])
        },
        |_| list_staff(),
    );

    // Only the most recently issued password is shown, so an admin never
    // hands out an older one by mistake.
    let issued = RwSignal::new(None::<IssuedPassword>);
    for value in [create.value(), reset.value()] {
        Effect::new(move |_| {
            if let Some(Ok(p)) = value.get() {
                issued.set(Some(p));
            }
        });
    }
    let create_form = cleared_on_success(move || create.value().get());

    view! {
        <h1>"Staff"</h1>
        <IssuedNotice issued />
        <ActionError result=set_roles.value() />
        <ActionError result=set_active.value() />
        <ActionError result=reset.value() />

        <section class="panel">
            <h2>"Add a staff member"</h2>
            <ActionForm action=create node_ref=create_form attr:class="grid-form">
                <label>
                    "Username"
                    <input type="text" name="username" required pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{1,63}" autocomplete="off" />
                </label>
                <label>
                    "Full name"
                    <input type="text" name="display_name" autocomplete="off" />
                </label>
                <label>
                    "Password"
                    <input type="password" name="password" autocomplete="new-password" placeholder="Leave empty to generate one" />
                </label>
                <fieldset class="roles">
                    <legend>"Roles"</legend>
                    <RoleCheckboxes has=|_| false />
                </fieldset>
                <SubmitRow label="Add staff member" disabled=move || create.pending().get() />
            </ActionForm>
            <ActionError result=create.value() />
        </section>

        <section class="panel">
            <h2>"Accounts"</h2>
            <Loaded resource=staff let:members>
                <StaffTable members set_roles set_active reset />
            </Loaded>
        </section>

        <SignInLocks />
    }
}

/// The sign-in locks and slow-downs in force, each with a button to lift it.
#[component]
fn SignInLocks() -> impl IntoView {
    let clear = ServerAction::<ClearSignInLock>::new();
    let locks = Resource::new(move || clear.version().get(), |_| list_sign_in_locks());
    view! {
        <section class="panel" aria-labelledby="sign-in-locks">
            <h2 id="sign-in-locks">"Sign-in locks"</h2>
            <p class="muted">
                "Wrong passwords lock a username tried from one address, and slow down an address that tries many. Lifting a lock is written to the audit log."
            </p>
            <ActionError result=clear.value() />
            <Loaded resource=locks let:list>
                <LockTable list clear />
            </Loaded>
        </section>
    }
}

#[component]
fn LockTable(list: Vec<SignInLock>, clear: ServerAction<ClearSignInLock>) -> impl IntoView {
    view! {
        <DataTable rows=list head=&["Counts", "Username", "Address", "Attempts", "State", "Actions"]
            empty="No sign-in is locked or slowed down." row=move |lock| {
                let state = match lock.locked_until {
                    Some(t) => format!("Locked until {}", t.format("%Y-%m-%d %H:%M UTC")),
                    None => "Slowed down".to_string(),
                };
                let key = lock.key.clone();
                view! {
                    <tr data-lock=lock.key>
                        <td>{lock.kind}</td>
                        <td>{lock.username.unwrap_or_else(|| "any".into())}</td>
                        <td>{lock.address.unwrap_or_else(|| "any".into())}</td>
                        <td>{lock.attempts}</td>
                        <td>{state}</td>
                        <td class="actions">
                            <ActionForm action=clear attr:class="inline">
                                <input type="hidden" name="key" value=key />
                                <button type="submit" class="small">"Lift"</button>
                            </ActionForm>
                        </td>
                    </tr>
                }
            }
        />
    }
}

/// The generated password of the last create or reset, or a confirmation.
#[component]
fn IssuedNotice(issued: RwSignal<Option<IssuedPassword>>) -> impl IntoView {
    move || match issued.get() {
        Some(IssuedPassword {
            username,
            password: Some(p),
        }) => view! { <OneTimeSecret username password=p /> }.into_any(),
        Some(IssuedPassword {
            username,
            password: None,
        }) => view! { <SuccessBox message=format!("Created {username}.") /> }.into_any(),
        None => ().into_any(),
    }
}

#[component]
fn RoleCheckboxes(has: impl Fn(Role) -> bool) -> impl IntoView {
    Role::ALL
        .into_iter()
        .map(|role| {
            view! {
                <label class="check">
                    <input type="checkbox" name=role.as_str() value="true" checked=has(role) />
                    {role.label()}
                </label>
            }
        })
        .collect_view()
}

#[component]
fn StaffTable(
    members: Vec<StaffMember>,
    set_roles: ServerAction<SetStaffRoles>,
    set_active: ServerAction<SetStaffActive>,
    reset: ServerAction<ResetStaffPassword>,
) -> impl IntoView {
    view! {
        <DataTable rows=members head=&["Username", "Name", "Roles", "Status", "Last sign-in", "Actions"]
            row=move |m| {
                let roles = m.roles.clone();
                let id = m.id;
                let ask_disable = m.active.then(|| disable_question(&m));
                let ask_reset =
                    Some(format!("Give {} a new generated password? Their sessions end at once.", m.username));
                view! {
                    <tr data-username=m.username.clone() class:inactive=!m.active>
                        <td>
                            <strong>{m.username.clone()}</strong>
                        </td>
                        <td>{m.display_name.clone()}</td>
                        <td>
                            <ActionForm action=set_roles attr:class="inline roles-form">
                                <input type="hidden" name="id" value=id.to_string() />
                                <RoleCheckboxes has=move |r| roles.contains(r) />
                                <button type="submit" class="small">"Save roles"</button>
                            </ActionForm>
                        </td>
                        <td>
                            {if m.active {
                                view! { <span class="badge ok">"Active"</span> }
                            } else {
                                view! { <span class="badge off">"Disabled"</span> }
                            }}
                            {(m.api_tokens > 0).then(|| view! {
                                <br />
                                <small class="muted">{tokens_note(m.api_tokens)}</small>
                            })}
                        </td>
                        <td>
                            {m
                                .last_login_at
                                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                                .unwrap_or_else(|| "never".into())}
                        </td>
                        <td class="actions">
                            <ActionForm action=set_active attr:class="inline">
                                <input type="hidden" name="id" value=id.to_string() />
                                <input type="hidden" name="active" value=(!m.active).to_string() />
                                <button
                                    type="submit"
                                    class="small"
                                    on:click=confirm_first(ask_disable.clone())
                                >
                                    {if m.active { "Disable" } else { "Enable" }}
                                </button>
                            </ActionForm>
                            <ActionForm action=reset attr:class="inline">
                                <input type="hidden" name="id" value=id.to_string() />
                                <button
                                    type="submit"
                                    class="small"
                                    on:click=confirm_first(ask_reset.clone())
                                >
                                    "Reset password"
                                </button>
                            </ActionForm>
                        </td>
                    </tr>
                }
            }
        />
    }
}

/// What an admin confirms before disabling `m`: sessions and API tokens.
fn disable_question(m: &StaffMember) -> String {
    let tokens = match m.api_tokens {
        0 => String::new(),
        n => format!(" {}", tokens_note(n)),
    };
    format!(
        "Disable {}? Their sessions end at once.{tokens}",
        m.username
    )
}

fn tokens_note(n: u64) -> String {
    match n {
        1 => "Issued 1 API token, revoked if the account is disabled.".into(),
        n => format!("Issued {n} API tokens, revoked if the account is disabled."),
    }
}
