//! The never-block networks on the detection settings page: every analyst
//! sees them; only admins add or remove one (the form is not shown to
//! others). Detection never proposes inside them, and no block inside them
//! is accepted, whoever approves it.

use crate::api::detect::{NeverBlockAdd, NeverBlockRemove, NeverBlockRow, never_block};
use crate::components::notice::ActionError;
use crate::components::page::{DataTable, Loaded, submissions};
use crate::components::session::use_current_user;
use crate::i18n::use_texts;
use crate::model::Role;
use leptos::prelude::*;

crate::texts! {
    /// The never-block networks and their server functions' messages.
    pub struct NeverBlockTexts {
        title = "Never block", "Nunca bloquear";
        help = "Networks no block may cover, and that detection never proposes: our relays, partners we must always accept mail from. Only admins change this list.", "Redes que nenhum bloqueio pode cobrir e que a detecção nunca propõe: nossos relays, parceiros de quem sempre precisamos aceitar e-mail. Só administradores alteram esta lista.";
        network = "Network", "Rede";
        note = "Note", "Observação";
        add = "Add", "Incluir";
        added_by = "Added by", "Incluída por";
        empty = "No network is listed.", "Nenhuma rede na lista.";
        remove = "Remove", "Remover";
        enter_network = "Enter an IP address or a CIDR network, e.g. 200.160.0.0/24 or 2001:db8::/48.", "Informe um endereço IP ou uma rede CIDR, ex.: 200.160.0.0/24 ou 2001:db8::/48.";
        note_too_long = "A note is at most 500 characters.", "A observação tem no máximo 500 caracteres.";
    }
    formats {
        too_wide(net: &str, widest: u8) = format!("{net} is too wide: list networks of /{widest} or narrower."), format!("{net} é ampla demais: liste redes de /{widest} ou menores.");
        too_many(n: u64) = format!("At most {n} never-block networks; merge some into a wider one."), format!("No máximo {n} redes na lista nunca bloquear; junte algumas numa rede mais ampla.");
        already_listed(net: &str) = format!("{net} is already listed."), format!("{net} já está na lista.");
        network_n(id: i32) = format!("Never-block network {id}"), format!("A rede {id} da lista nunca bloquear");
    }
}

/// The never-block texts in the language of the request being answered.
#[cfg(feature = "ssr")]
pub fn server_texts() -> NeverBlockTexts {
    NeverBlockTexts(crate::server::locale::request_lang())
}

/// The list, and for admins the form that changes it.
#[component]
pub fn NeverBlock() -> impl IntoView {
    let t = use_texts::<NeverBlockTexts>();
    let add = ServerAction::<NeverBlockAdd>::new();
    let remove = ServerAction::<NeverBlockRemove>::new();
    let rows = Resource::new(
        move || submissions([add.version(), remove.version()]),
        |_| never_block(),
    );
    let user = use_current_user();
    let is_admin = move || {
        user.get()
            .and_then(|u| u.ok().flatten())
            .is_some_and(|u| u.roles.contains(Role::Admin))
    };
    view! {
        <section class="panel never-block" aria-labelledby="never-block-title">
            <h2 id="never-block-title">{t.title()}</h2>
            <p class="muted">{t.help()}</p>
            <ActionError result=add.value() />
            <ActionError result=remove.value() />
            <Show when=is_admin>
                <ActionForm action=add attr:class="inline bulk-form">
                    <label>
                        {t.network()}
                        <input type="text" name="network" required maxlength="64" />
                    </label>
                    <label>
                        {t.note()}
                        <input type="text" name="note" maxlength="500" />
                    </label>
                    <button type="submit" class="small">{t.add()}</button>
                </ActionForm>
            </Show>
            <Loaded resource=rows let:list>
                <NeverBlockTable rows=list remove admin=is_admin() />
            </Loaded>
        </section>
    }
}

#[component]
fn NeverBlockTable(
    rows: Vec<NeverBlockRow>,
    remove: ServerAction<NeverBlockRemove>,
    admin: bool,
) -> impl IntoView {
    let t = use_texts::<NeverBlockTexts>();
    view! {
        <DataTable rows=rows head=vec![t.network(), t.note(), t.added_by(), ""]
            class="data never-block" empty=t.empty() row=move |n| {
                view! {
                    <tr data-network=n.network.clone()>
                        <td><strong class="target">{n.network.clone()}</strong></td>
                        <td>{n.note.clone()}</td>
                        <td>{n.created_by.clone()}</td>
                        <td>
                            {admin.then(|| view! {
                                <ActionForm action=remove attr:class="inline">
                                    <input type="hidden" name="id" value=n.id.to_string() />
                                    <button type="submit" class="small">{t.remove()}</button>
                                </ActionForm>
                            })}
                        </td>
                    </tr>
                }
            }
        />
    }
    .into_any()
}
