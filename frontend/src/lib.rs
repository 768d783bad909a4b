//! The browser entry point: hydrates the server-rendered page.
//!
//! Most pages belong to a lazily loaded section (see `app/src/lib.rs`), whose
//! code the browser fetches when it first shows one of its pages, so
//! hydration is asynchronous: it finishes once that code has arrived.

use leptos::prelude::*;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    wasm_bindgen_futures::spawn_local(async {
        let body = document().body().expect("a body");
        let mounted = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        mounted.forget();
        // Marks the page as interactive, which the browser tests wait for
        // before they click.
        let _ = body.set_attribute("data-hydrated", "true");
        // The "still loading" note the server put on the page goes.
        let _ = body.remove_attribute("data-loading");
    });
}
