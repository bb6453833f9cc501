//! The operator console: the shop's operators steer a drop here during its busiest minutes.
//! Its own page and bundle (`crates/console/index.html` → `dist/operator/`, served at
//! `/operator/`), so the shopper's widget carries none of it.
//!
//! # Layout
//!
//! - [`session`]: the operator token, kept for the tab in `sessionStorage`.
//! - [`api`]: the operator API with the token in `Authorization`, refusals as [`api::ApiError`].
//! - [`stream`]: the live figures over SSE, with a short-lived ticket and reconnects.
//! - [`figures`]: the figures and the sparkline of admissions.
//! - [`controls`]: open, pause, close, rate, stock, admit now, synthetic shoppers.
//! - [`create`]: the form that creates an experience.
//! - [`list`]: the whole line, virtualized over `livequeue_protocol::list_window`.
//! - [`format`]: numbers and times as shown.
//!
//! This file holds the page: sign-in, the choice of experience, and the panels.

pub mod api;
pub mod controls;
pub mod create;
pub mod figures;
pub mod format;
pub mod list;
pub mod session;
pub mod stream;

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use livequeue_protocol::ExperienceId;
use livequeue_protocol::api::{ExperienceSummary, OperatorFigures};
use send_wrapper::SendWrapper;

use crate::api::{ApiError, Operator};
use crate::controls::{Controls, Notice};
use crate::create::CreateForm;
use crate::figures::Figures;
use crate::list::QueueList;
use crate::stream::{Link, Sinks, Stream};

/// The console's page.
#[component]
pub fn Console() -> impl IntoView {
    let operator = RwSignal::new(None::<Operator>);
    let experiences = RwSignal::new(Vec::<ExperienceSummary>::new());
    let sign_in_error = RwSignal::new(None::<String>);
    let checking = RwSignal::new(false);

    // Signs in with `token`: the list of experiences is the proof the server takes it.
    let sign_in = move |token: String, remembered: bool| {
        checking.set(true);
        leptos::task::spawn_local(async move {
            let candidate = Operator { token };
            match candidate.experiences().await {
                Ok(list) => {
                    session::store(&candidate.token);
                    experiences.set(list.experiences);
                    sign_in_error.set(None);
                    operator.set(Some(candidate));
                }
                Err(ApiError::Unauthorized) => {
                    session::forget();
                    sign_in_error.set(Some(if remembered {
                        "The token kept for this tab was refused; enter it again.".into()
                    } else {
                        "The server refused this operator token.".into()
                    }));
                }
                Err(error) => sign_in_error.set(Some(error.message())),
            }
            checking.set(false);
        });
    };
    if let Some(token) = session::stored() {
        sign_in(token, true);
    }
    let sign_out = move || {
        session::forget();
        operator.set(None);
        experiences.set(Vec::new());
    };

    view! {
        <Show
            when=move || operator.with(Option::is_some)
            fallback=move || view! { <SignIn sign_in=sign_in error=sign_in_error checking=checking /> }
        >
            {move || {
                operator
                    .get()
                    .map(|op| {
                        view! {
                            <Signed
                                operator=op
                                experiences=experiences
                                sign_out=Callback::new(move |()| sign_out())
                                refused=Callback::new(move |()| {
                                    sign_out();
                                    sign_in_error.set(Some(
                                        "The server no longer takes this token (it was changed, or the server restarted with another); enter it again.".into(),
                                    ));
                                })
                            />
                        }
                    })
            }}
        </Show>
    }
}

/// The sign-in form.
#[component]
fn SignIn(
    /// Tries a token (not one remembered from before).
    sign_in: impl Fn(String, bool) + Copy + Send + Sync + 'static,
    /// Why the last token was refused.
    error: RwSignal<Option<String>>,
    /// A token is being checked.
    checking: RwSignal<bool>,
) -> impl IntoView {
    let token = RwSignal::new(String::new());
    let on_submit = move |event: web_sys::SubmitEvent| {
        event.prevent_default();
        let typed = token.get_untracked().trim().to_owned();
        if typed.is_empty() {
            error.set(Some("Enter the operator token.".into()));
            return;
        }
        sign_in(typed, false);
    };
    view! {
        <main class="sign-in">
            <form on:submit=on_submit>
                <h1>"Operator console"</h1>
                <p>"Enter the operator token. It is kept for this tab only, and never put in an address."</p>
                <label for="lq-token">"Operator token"</label>
                <input
                    id="lq-token"
                    type="password"
                    autocomplete="current-password"
                    prop:value=move || token.get()
                    on:input=move |ev| token.set(event_target_value(&ev))
                    aria-invalid=move || error.with(Option::is_some).to_string()
                    aria-describedby="lq-token-error"
                />
                <p id="lq-token-error" class="error" role="alert">{move || error.get()}</p>
                <button type="submit" disabled=move || checking.get()>
                    {move || if checking.get() { "Checking…" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}

/// The console once signed in.
#[component]
fn Signed(
    /// The operator.
    operator: Operator,
    /// Every experience, as listed at sign-in (and after a creation).
    experiences: RwSignal<Vec<ExperienceSummary>>,
    /// Forgets the token.
    sign_out: Callback<()>,
    /// The server refused the token while signed in: forgets it and says so.
    refused: Callback<()>,
) -> impl IntoView {
    let selected = RwSignal::new(experiences.with_untracked(|list| {
        list.iter()
            .map(|e| e.id.clone())
            .find(|id| id == "demo-drop")
            .or_else(|| list.first().map(|e| e.id.clone()))
    }));
    let figures = RwSignal::new(None::<OperatorFigures>);
    let link = RwSignal::new(Link::Connecting);
    let notice = RwSignal::new(None::<Notice>);

    // One stream for the selected experience: a new choice drops the old stream (closing
    // its source) before the new one opens.
    let current: Rc<RefCell<Option<Stream>>> = Rc::default();
    {
        let current = current.clone();
        let operator = operator.clone();
        Effect::new(move |_| {
            let id = selected.get();
            current.borrow_mut().take();
            figures.set(None);
            let Some(id) = id.and_then(|id| id.parse::<ExperienceId>().ok()) else {
                return;
            };
            link.set(Link::Connecting);
            let sinks = Sinks {
                figures: Box::new(move |f| figures.set(Some(f))),
                link: Box::new(move |l| link.set(l)),
                unauthorized: Box::new(move || refused.run(())),
            };
            *current.borrow_mut() = Some(Stream::start(operator.clone(), id, sinks));
        });
    }
    let on_unmount = SendWrapper::new(current);
    on_cleanup(move || drop(on_unmount.borrow_mut().take()));

    let summary = Signal::derive(move || {
        let id = selected.get();
        figures.with(|f| {
            f.as_ref()
                .filter(|f| Some(&f.summary.id) == id.as_ref())
                .map(|f| f.summary.clone())
        })
    });
    let changed = Callback::new(move |after: ExperienceSummary| {
        figures.update(|f| {
            if let Some(f) = f.as_mut().filter(|f| f.summary.id == after.id) {
                f.summary = after;
            }
        });
    });
    let created = {
        let operator = operator.clone();
        Callback::new(move |id: String| {
            let operator = operator.clone();
            leptos::task::spawn_local(async move {
                if let Ok(list) = operator.experiences().await {
                    experiences.set(list.experiences);
                }
                selected.set(Some(id));
            });
        })
    };
    // The figures of the experience shown, never the last frame of the one before.
    let shown = move |read: fn(&ExperienceSummary) -> u64| {
        Signal::derive(move || {
            let id = selected.get();
            figures.with(|f| {
                f.as_ref()
                    .filter(|f| Some(&f.summary.id) == id.as_ref())
                    .map_or(0, |f| read(&f.summary))
            })
        })
    };
    let total = shown(|s| s.waiting);
    let admitted = shown(|s| s.admitted);
    let link_text = move || match link.get() {
        Link::Connecting => "Connecting…".to_owned(),
        Link::Live => "Live".to_owned(),
        Link::Reconnecting => "Reconnecting…".to_owned(),
        Link::Stopped(why) => why,
    };
    let link_class = move || match link.get() {
        Link::Live => "link live",
        Link::Stopped(_) => "link stopped",
        _ => "link waiting",
    };

    let operator_for_empty = operator.clone();
    view! {
        <header class="bar">
            <h1>"Operator console"</h1>
            <label for="lq-experience" class="lq-visually-hidden">"Experience"</label>
            <select
                id="lq-experience"
                on:change=move |ev| selected.set(Some(event_target_value(&ev)))
                prop:value=move || selected.get().unwrap_or_default()
            >
                <For
                    each=move || experiences.get()
                    key=|e| e.id.clone()
                    let:experience
                >
                    <option value=experience.id.clone()>{format!("{} ({})", experience.name, experience.id)}</option>
                </For>
            </select>
            <span class=link_class role="status">{link_text}</span>
            <button type="button" class="quiet" on:click=move |_| sign_out.run(())>"Sign out"</button>
        </header>
        <p class="notice" role="status" aria-live="polite" class:refused=move || notice.with(|n| n.as_ref().is_some_and(|n| !n.ok))>
            {move || notice.get().map(|n| n.text)}
        </p>
        {move || {
            let id = selected.get()?.parse::<ExperienceId>().ok()?;
            let operator = operator.clone();
            Some(view! {
                <main class="panels">
                    <section class="live" aria-label="Live figures">
                        <Figures figures=figures.into() />
                    </section>
                    <Controls
                        operator=operator.clone()
                        experience=id.clone()
                        summary=summary
                        notice=notice.write_only()
                        changed=changed
                    />
                    <section class="line" aria-label="The line">
                        <h2>{move || format!("The line · {} waiting", format::grouped(total.get()))}</h2>
                        <QueueList operator=operator.clone() experience=id total=total admitted=admitted />
                    </section>
                    <CreateForm operator=operator notice=notice.write_only() created=created />
                </main>
            })
        }}
        {move || experiences.with(Vec::is_empty).then(|| view! {
            <main class="panels"><CreateForm operator=operator_for_empty.clone() notice=notice.write_only() created=created /></main>
        })}
    }
}
