//! Staff administration: create accounts, change roles, disable or enable,
//! reset passwords, lift sign-in locks. Every form also works without
//! JavaScript.

use crate::api::staff::{
    ClearSignInLock, CreateStaff, ResetStaffPassword, SetStaffActive, SetStaffRoles,
    list_sign_in_locks, list_staff,
};
use crate::components::notice::{ActionError, OneTimeSecret, SuccessBox};
use crate::components::page::{DataTable, Loaded, Page, SubmitRow, submissions};
use crate::components::request_form::{PlainPost, cleared_on_success, confirm_first};
use crate::i18n::{Time, common::Common, use_texts};
use crate::model::{IssuedPassword, Role, Section, SignInLock, StaffMember};
use leptos::prelude::*;

crate::texts! {
    /// The staff administration page.
    pub struct StaffTexts {
        title = "Staff", "Equipe";
        add_heading = "Add a staff member", "Adicionar um membro da equipe";
        username = "Username", "Usuário";
        col_status = "Status", "Situação";
        full_name = "Full name", "Nome completo";
        password = "Password", "Senha";
        password_placeholder = "Leave empty to generate one", "Deixe vazio para gerar uma";
        roles = "Roles", "Papéis";
        add = "Add staff member", "Adicionar membro";
        accounts = "Accounts", "Contas";
        locks_heading = "Sign-in locks", "Bloqueios de entrada";
        locks_intro = "Wrong passwords lock a username tried from one address, and slow down an address that tries many. Lifting a lock is written to the audit log.", "Senhas erradas bloqueiam um usuário tentado a partir de um endereço e deixam mais lento um endereço que tenta muitos. Retirar um bloqueio fica no registro de auditoria.";
        col_counts = "Counts", "Conta";
        col_address = "Address", "Endereço";
        col_attempts = "Attempts", "Tentativas";
        col_state = "State", "Estado";
        col_actions = "Actions", "Ações";
        no_locks = "No sign-in is locked or slowed down.", "Nenhuma entrada está bloqueada ou mais lenta.";
        locked_until = "Locked until", "Bloqueado até";
        slowed = "Slowed down", "Mais lento";
        any = "any", "qualquer";
        lift = "Lift", "Retirar";
        col_name = "Name", "Nome";
        col_last = "Last sign-in", "Última entrada";
        save_roles = "Save roles", "Salvar papéis";
        active = "Active", "Ativa";
        disabled = "Disabled", "Desativada";
        never = "never", "nunca";
        disable = "Disable", "Desativar";
        enable = "Enable", "Ativar";
        reset_password = "Reset password", "Redefinir senha";
    }
    formats {
        created(username: &str) = format!("Created {username}."), format!("{username} foi criado(a).");
        ask_reset(username: &str) = format!("Give {username} a new generated password? Their sessions end at once."), format!("Dar a {username} uma nova senha gerada? As sessões dele(a) terminam na hora.");
        ask_disable(username: &str, tokens: &str) = format!("Disable {username}? Their sessions end at once.{tokens}"), format!("Desativar {username}? As sessões dele(a) terminam na hora.{tokens}");
        tokens_note(n: u64) = match n {
            1 => "Issued 1 API token, revoked if the account is disabled.".to_string(),
            n => format!("Issued {n} API tokens, revoked if the account is disabled."),
        }, match n {
            1 => "Emitiu 1 token de API, revogado se a conta for desativada.".to_string(),
            n => format!("Emitiu {n} tokens de API, revogados se a conta for desativada."),
        };
    }
}

#[component]
pub fn StaffPage() -> impl IntoView {
    let title = use_texts::<StaffTexts>().title();
    view! { <Page title section=Section::Admin children=|_| view! { <StaffAdmin /> } /> }
}

#[component]
fn StaffAdmin() -> impl IntoView {
    let t = use_texts::<StaffTexts>();
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
    // A form posted without WASM: its answer came back with the page.
    let plain = PlainPost::take();
    for p in [plain.outcome(create), plain.outcome(reset)] {
        if let Some(Ok(p)) = p {
            issued.set(Some(p));
        }
    }
    plain.outcome(set_roles);
    plain.outcome(set_active);
    let typed = plain.typed(create);
    for value in [create.value(), reset.value()] {
        Effect::new(move |_| {
            if let Some(Ok(p)) = value.get() {
                issued.set(Some(p));
            }
        });
    }
    let create_form = cleared_on_success(move || create.value().get());

    view! {
        <h1>{t.title()}</h1>
        <IssuedNotice issued />
        <ActionError result=set_roles.value() />
        <ActionError result=set_active.value() />
        <ActionError result=reset.value() />

        <section class="panel">
            <h2>{t.add_heading()}</h2>
            <ActionForm action=create node_ref=create_form attr:class="grid-form">
                <label>
                    {t.username()}
                    <input type="text" name="username" value=typed.value("username") required pattern="[A-Za-z0-9][A-Za-z0-9._\\-]{1,63}" autocomplete="off" />
                </label>
                <label>
                    {t.full_name()}
                    <input type="text" name="display_name" value=typed.value("display_name") autocomplete="off" />
                </label>
                <label>
                    {t.password()}
                    <input type="password" name="password" autocomplete="new-password" placeholder=t.password_placeholder() />
                </label>
                <fieldset class="roles">
                    <legend>{t.roles()}</legend>
                    <RoleCheckboxes has=move |r| typed.checked_or(r.as_str(), false) />
                </fieldset>
                <SubmitRow label=t.add() disabled=move || create.pending().get() />
            </ActionForm>
            <ActionError result=create.value() />
        </section>

        <section class="panel">
            <h2>{t.accounts()}</h2>
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
    let t = use_texts::<StaffTexts>();
    let clear = ServerAction::<ClearSignInLock>::new();
    let locks = Resource::new(move || clear.version().get(), |_| list_sign_in_locks());
    view! {
        <section class="panel" aria-labelledby="sign-in-locks">
            <h2 id="sign-in-locks">{t.locks_heading()}</h2>
            <p class="muted">
                {t.locks_intro()}
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
    let t = use_texts::<StaffTexts>();
    view! {
        <div class="table-scroll">
        <DataTable rows=list head=vec![t.col_counts(), t.username(), t.col_address(), t.col_attempts(), t.col_state(), t.col_actions()]
            empty=t.no_locks() row=move |lock| {
                let state = match lock.locked_until {
                    Some(until) => view! { {t.locked_until()} " " <Time at=until.timestamp() /> }.into_any(),
                    None => t.slowed().into_any(),
                };
                let key = lock.key.clone();
                view! {
                    <tr data-lock=lock.key>
                        <td>{lock.kind}</td>
                        <td>{lock.username.unwrap_or_else(|| t.any().into())}</td>
                        <td>{lock.address.unwrap_or_else(|| t.any().into())}</td>
                        <td>{lock.attempts}</td>
                        <td>{state}</td>
                        <td class="actions">
                            <ActionForm action=clear attr:class="inline">
                                <input type="hidden" name="key" value=key />
                                <button type="submit" class="small">{t.lift()}</button>
                            </ActionForm>
                        </td>
                    </tr>
                }
            }
        />
        </div>
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
        }) => {
            let message = use_texts::<StaffTexts>().created(&username);
            view! { <SuccessBox message /> }.into_any()
        }
        None => ().into_any(),
    }
}

#[component]
fn RoleCheckboxes(has: impl Fn(Role) -> bool) -> impl IntoView {
    let common = use_texts::<Common>();
    Role::ALL
        .into_iter()
        .map(|role| {
            view! {
                <label class="check">
                    <input type="checkbox" name=role.as_str() value="true" checked=has(role) />
                    {common.role(role)}
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
    let t = use_texts::<StaffTexts>();
    view! {
        <div class="table-scroll">
        <DataTable rows=members head=vec![t.username(), t.col_name(), t.roles(), t.col_status(), t.col_last(), t.col_actions()]
            row=move |m| {
                let roles = m.roles.clone();
                let id = m.id;
                let ask_disable = m.active.then(|| disable_question(t, &m));
                let ask_reset = Some(t.ask_reset(&m.username));
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
                                <button type="submit" class="small">{t.save_roles()}</button>
                            </ActionForm>
                        </td>
                        <td>
                            {if m.active {
                                view! { <span class="badge ok">{t.active()}</span> }
                            } else {
                                view! { <span class="badge off">{t.disabled()}</span> }
                            }}
                            {(m.api_tokens > 0).then(|| view! {
                                <br />
                                <small class="muted">{t.tokens_note(m.api_tokens)}</small>
                            })}
                        </td>
                        <td>
                            {match m.last_login_at {
                                Some(at) => view! { <Time at=at.timestamp() /> }.into_any(),
                                None => t.never().into_any(),
                            }}
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
                                    {if m.active { t.disable() } else { t.enable() }}
                                </button>
                            </ActionForm>
                            <ActionForm action=reset attr:class="inline">
                                <input type="hidden" name="id" value=id.to_string() />
                                <button
                                    type="submit"
                                    class="small"
                                    on:click=confirm_first(ask_reset.clone())
                                >
                                    {t.reset_password()}
                                </button>
                            </ActionForm>
                        </td>
                    </tr>
                }
            }
        />
        </div>
    }
}

/// What an admin confirms before disabling `m`: sessions and API tokens.
fn disable_question(t: StaffTexts, m: &StaffMember) -> String {
    let tokens = match m.api_tokens {
        0 => String::new(),
        n => format!(" {}", t.tokens_note(n)),
    };
    t.ask_disable(&m.username, &tokens)
}
