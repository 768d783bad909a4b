//! The never-block networks on the detection settings page: every analyst
//! sees them; only admins add or remove one (the form is not shown to
//! others). Detection never proposes inside them, and no block inside them
//! is accepted, whoever approves it.

use crate::api::detect::{NeverBlockAdd, NeverBlockRemove, NeverBlockRow, never_block};
use crate::components::notice::ActionError;
use crate::components::page::{DataTable, Loaded, submissions};
use crate::components::session::use_current_user;
use crate::model::Role;
use leptos::prelude::*;

/// The list, and for admins the form that changes it.
#[component]
pub fn NeverBlock() -> impl IntoView {
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
            <h2 id="never-block-title">"Never block"</h2>
            <p class="muted">
                "Networks no block may cover, and that detection never proposes: our relays, "
                "partners we must always accept mail from. Only admins change this list."
            </p>
            <ActionError result=add.value() />
            <ActionError result=remove.value() />
            <Show when=is_admin>
                <ActionForm action=add attr:class="inline bulk-form">
                    <label>
                        "Network"
                        <input type="text" name="network" required maxlength="64" />
                    </label>
                    <label>
                        "Note"
                        <input type="text" name="note" maxlength="500" />
                    </label>
                    <button type="submit" class="small">"Add"</button>
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
    view! {
        <DataTable rows=rows head=&["Network", "Note", "Added by", ""]
            class="data never-block" empty="No network is listed." row=move |n| {
                view! {
                    <tr data-network=n.network.clone()>
                        <td><strong class="target">{n.network.clone()}</strong></td>
                        <td>{n.note.clone()}</td>
                        <td>{n.created_by.clone()}</td>
                        <td>
                            {admin.then(|| view! {
                                <ActionForm action=remove attr:class="inline">
                                    <input type="hidden" name="id" value=n.id.to_string() />
                                    <button type="submit" class="small">"Remove"</button>
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
