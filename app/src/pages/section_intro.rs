//! The landing page of a section whose tools are still being built: it says
//! so plainly, and is guarded like the finished section will be.

use crate::components::guard::Guarded;
use crate::model::Section;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn SectionIntro(section: Section) -> impl IntoView {
    view! {
        <Title text=section.label() />
        <Guarded
            section=section
            children=move |_| {
                view! {
                    <section class="panel">
                        <h1>{section.label()}</h1>
                        <p>{section.summary()}</p>
                        <p class="notice info">"This section's tools are not available yet."</p>
                    </section>
                }
            }
        />
    }
}
