//! A page that refreshes itself: a counter that goes up every `every`, for
//! a `Resource` to depend on. Only in the browser (effects do not run
//! during server rendering); the timer stops when the page goes.

use leptos::prelude::*;
use std::time::Duration;

pub fn refresh_tick(every: Duration) -> RwSignal<u64> {
    let tick = RwSignal::new(0u64);
    Effect::new(move |_| {
        let handle = set_interval_with_handle(move || tick.update(|t| *t += 1), every).ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    });
    tick
}
