//! The operator's controls: open, pause, close; the admission rate; the stock; admit now;
//! synthetic shoppers for a demo. Each change is confirmed in a sentence that says what
//! changed, and a refused one says why ([`Notice`]).

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use livequeue_protocol::api::{ExperienceSummary, MAX_SYNTHETIC_JOINS, PatchExperience};
use livequeue_protocol::{ExperienceId, ExperienceStatus};

use crate::api::{ApiError, Operator};
use crate::format::{grouped, rate};

/// The answer to the operator's last action, read out by screen readers (`role="status"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// Whether the change was made.
    pub ok: bool,
    /// What changed, or why not.
    pub text: String,
}

impl Notice {
    /// A change that was made.
    pub fn done(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            text: text.into(),
        }
    }

    /// A field the operator has to correct: nothing was sent.
    pub fn invalid(text: String) -> Self {
        Self { ok: false, text }
    }

    /// A change that was refused, with the reason.
    pub fn refused(what: &str, error: &ApiError) -> Self {
        Self {
            ok: false,
            text: format!("{what} refused: {}", error.message()),
        }
    }
}

/// A change to send: the request it makes, given who and which experience.
type Request = Box<dyn FnOnce(Operator, ExperienceId) -> Pin<Box<dyn Future<Output = Answer>>>>;
/// The server's answer to a change.
type Answer = Result<ExperienceSummary, ApiError>;
/// The sentence that confirms a change, from the summaries after and before it.
type Confirm = Box<dyn FnOnce(&ExperienceSummary, Option<&ExperienceSummary>) -> String>;

/// The request that sends `patch` to the experience.
fn patching(patch: PatchExperience) -> Request {
    Box::new(move |op, id| Box::pin(async move { op.patch(&id, &patch).await }))
}

/// A submit handler: reads the form with `parse`; a field that is wrong is said in the
/// notice, a right one is handed to `then`.
fn on_submit<T>(
    notice: WriteSignal<Option<Notice>>,
    parse: impl Fn() -> Result<T, String> + 'static,
    then: impl Fn(T) + 'static,
) -> impl Fn(web_sys::SubmitEvent) + 'static {
    move |event| {
        event.prevent_default();
        match parse() {
            Ok(value) => then(value),
            Err(why) => notice.set(Some(Notice::invalid(why))),
        }
    }
}

/// A whole number typed by the operator, with thousands separators allowed, in `range`.
pub fn parse_count(text: &str, range: std::ops::RangeInclusive<u64>) -> Result<u64, String> {
    let cleaned = text.trim().replace([',', ' ', '_'], "");
    match cleaned.parse::<u64>() {
        Ok(n) if range.contains(&n) => Ok(n),
        _ => Err(format!(
            "Enter a whole number from {} to {}.",
            grouped(*range.start()),
            grouped(*range.end())
        )),
    }
}

/// A rate per minute typed by the operator: 0 to 1,000,000, decimals allowed.
pub fn parse_rate(text: &str) -> Result<f64, String> {
    match text.trim().replace(',', "").parse::<f64>() {
        Ok(r) if r.is_finite() && (0.0..=1_000_000.0).contains(&r) => Ok(r),
        _ => Err("Enter a rate from 0 to 1,000,000 per minute.".into()),
    }
}

/// The sentence that confirms "admit `count` now". The summaries before and after also
/// count what the rate admitted meanwhile, so the difference is only an upper bound: when it
/// reaches `count` the request admitted all it asked for (it admits fewer only when stock or
/// the line runs out, and then the rate could not admit either); when it is short, the
/// line or the stock ran out and the request admitted at most that many.
pub fn admitted_sentence(
    count: u64,
    after: &ExperienceSummary,
    before: Option<&ExperienceSummary>,
) -> String {
    match before.map(|b| after.admitted.saturating_sub(b.admitted)) {
        Some(n) if n < count => format!(
            "Admitted {} of the {} asked for: {}.",
            grouped(n),
            grouped(count),
            if after.waiting == 0 {
                "nobody else is waiting"
            } else {
                "the stock ran out"
            }
        ),
        _ => format!("Admitted {} now.", grouped(count)),
    }
}

fn status_word(status: ExperienceStatus) -> &'static str {
    match status {
        ExperienceStatus::Open => "open",
        ExperienceStatus::Paused => "paused",
        ExperienceStatus::Closed => "closed",
    }
}

/// One control's form: a label, a text field and its button.
#[component]
fn ControlForm(
    /// The field's id (the label points at it; tests find it by it).
    id: &'static str,
    /// What the field is.
    label: &'static str,
    /// The button's word.
    button: &'static str,
    /// The keyboard phones show: `numeric` or `decimal`.
    #[prop(default = "numeric")]
    inputmode: &'static str,
    /// The text as typed.
    text: RwSignal<String>,
    /// The current value, shown greyed in an empty field.
    #[prop(optional, into)]
    placeholder: MaybeProp<String>,
    /// An action is under way: the button waits.
    busy: Signal<bool>,
    /// Sends the form.
    on_submit: impl Fn(web_sys::SubmitEvent) + 'static,
) -> impl IntoView {
    view! {
        <form class="control" on:submit=on_submit>
            <label for=id>{label}</label>
            <input
                id=id
                inputmode=inputmode
                autocomplete="off"
                placeholder=move || placeholder.get()
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            />
            <button type="submit" disabled=move || busy.get()>{button}</button>
        </form>
    }
}

/// The controls of one experience.
#[component]
pub fn Controls(
    /// Who makes the changes.
    operator: Operator,
    /// The experience they change.
    experience: ExperienceId,
    /// Its current summary, from the live figures.
    summary: Signal<Option<ExperienceSummary>>,
    /// Where each change's answer goes.
    notice: WriteSignal<Option<Notice>>,
    /// Each accepted change's new summary, shown before the next frame of figures.
    changed: Callback<ExperienceSummary>,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let rate_text = RwSignal::new(String::new());
    let stock_text = RwSignal::new(String::new());
    let admit_text = RwSignal::new("10".to_owned());
    let synthetic_text = RwSignal::new("1000000".to_owned());

    // One action at a time: the answer of each is confirmed before the next is sent.
    let act = {
        let operator = operator.clone();
        let experience = experience.clone();
        move |what: &'static str, request: Request, confirm: Confirm| {
            if busy.get_untracked() {
                return;
            }
            busy.set(true);
            let before = summary.get_untracked();
            let future = request(operator.clone(), experience.clone());
            leptos::task::spawn_local(async move {
                match future.await {
                    Ok(after) => {
                        notice.set(Some(Notice::done(confirm(&after, before.as_ref()))));
                        changed.run(after);
                    }
                    Err(error) => notice.set(Some(Notice::refused(what, &error))),
                }
                busy.set(false);
            });
        }
    };

    let set_status = {
        let act = act.clone();
        move |status: ExperienceStatus| {
            act(
                "Status change",
                patching(PatchExperience {
                    status: Some(status),
                    ..Default::default()
                }),
                Box::new(|after, _| {
                    format!("{} is now {}.", after.name, status_word(after.status))
                }),
            );
        }
    };
    let status_button = {
        let set_status = set_status.clone();
        move |status: ExperienceStatus, label: &'static str| {
            let set_status = set_status.clone();
            view! {
                <button
                    type="button"
                    class="status"
                    aria-pressed=move || {
                        summary.with(|s| s.as_ref().is_some_and(|s| s.status == status)).to_string()
                    }
                    disabled=move || busy.get()
                    on:click=move |_| set_status(status)
                >
                    {label}
                </button>
            }
        }
    };

    let on_rate = {
        let act = act.clone();
        on_submit(
            notice,
            move || parse_rate(&rate_text.get_untracked()),
            move |per_minute| {
                act(
                    "Rate change",
                    patching(PatchExperience {
                        admission_rate_per_minute: Some(per_minute),
                        ..Default::default()
                    }),
                    Box::new(|after, _| {
                        format!(
                            "Admission rate set to {} per minute.",
                            rate(after.admission_rate_per_minute)
                        )
                    }),
                )
            },
        )
    };

    let on_stock = {
        let act = act.clone();
        on_submit(
            notice,
            move || parse_count(&stock_text.get_untracked(), 0..=1_000_000_000),
            move |total| {
                act(
                    "Stock change",
                    patching(PatchExperience {
                        stock: Some(total),
                        ..Default::default()
                    }),
                    Box::new(|after, _| {
                        format!(
                            "Stock set to {} in all; {} available.",
                            grouped(after.stock.total),
                            grouped(after.stock.available)
                        )
                    }),
                )
            },
        )
    };

    let on_admit = {
        let act = act.clone();
        on_submit(
            notice,
            move || parse_count(&admit_text.get_untracked(), 1..=100_000),
            move |count| {
                act(
                    "Admission",
                    Box::new(move |op, id| Box::pin(async move { op.admit(&id, count).await })),
                    Box::new(move |after, before| admitted_sentence(count, after, before)),
                )
            },
        )
    };

    let on_synthetic = on_submit(
        notice,
        move || parse_count(&synthetic_text.get_untracked(), 1..=MAX_SYNTHETIC_JOINS),
        move |count| {
            act(
                "Adding shoppers",
                Box::new(move |op, id| Box::pin(async move { op.synthetic(&id, count).await })),
                Box::new(move |after, _| {
                    format!(
                        "{} synthetic shoppers joined; {} are waiting.",
                        grouped(count),
                        grouped(after.waiting)
                    )
                }),
            )
        },
    );

    view! {
        <section class="controls" aria-label="Controls">
            <div class="control" role="group" aria-label="Status">
                <span class="control-label">"Status"</span>
                {status_button(ExperienceStatus::Open, "Open")}
                {status_button(ExperienceStatus::Paused, "Pause")}
                {status_button(ExperienceStatus::Closed, "Close")}
            </div>
            <ControlForm
                id="lq-rate"
                label="Admissions per minute"
                button="Set rate"
                inputmode="decimal"
                text=rate_text
                placeholder=Signal::derive(move || {
                    summary.with(|s| s.as_ref().map(|s| rate(s.admission_rate_per_minute)))
                })
                busy=busy.into()
                on_submit=on_rate
            />
            <ControlForm
                id="lq-stock"
                label="Stock in all"
                button="Set stock"
                text=stock_text
                placeholder=Signal::derive(move || {
                    summary.with(|s| s.as_ref().map(|s| grouped(s.stock.total)))
                })
                busy=busy.into()
                on_submit=on_stock
            />
            <ControlForm
                id="lq-admit"
                label="Admit now"
                button="Admit"
                text=admit_text
                busy=busy.into()
                on_submit=on_admit
            />
            <ControlForm
                id="lq-synthetic"
                label="Add synthetic shoppers"
                button="Add"
                text=synthetic_text
                busy=busy.into()
                on_submit=on_synthetic
            />
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_separators_and_refuse_what_is_out_of_range() {
        assert_eq!(parse_count("1,000,000", 1..=2_000_000), Ok(1_000_000));
        assert_eq!(parse_count(" 10 ", 1..=100), Ok(10));
        assert_eq!(
            parse_count("0", 1..=100),
            Err("Enter a whole number from 1 to 100.".into())
        );
        assert!(parse_count("-3", 1..=100).is_err());
        assert!(parse_count("2.5", 1..=100).is_err());
        assert!(parse_count("", 1..=100).is_err());
    }

    #[test]
    fn rates_take_decimals_and_refuse_nonsense() {
        assert_eq!(parse_rate("120"), Ok(120.0));
        assert_eq!(parse_rate("0.5"), Ok(0.5));
        assert!(parse_rate("NaN").is_err());
        assert!(parse_rate("inf").is_err());
        assert!(parse_rate("-1").is_err());
        assert!(parse_rate("2000000").is_err());
    }

    fn summary(admitted: u64, waiting: u64) -> ExperienceSummary {
        ExperienceSummary {
            id: "d".into(),
            name: "D".into(),
            status: ExperienceStatus::Open,
            stock: Default::default(),
            admission_rate_per_minute: 60.0,
            observed_rate_per_minute: 60.0,
            checkout_url: "/checkout/d".into(),
            waiting,
            active_admissions: 0,
            redeemed: 0,
            expired: 0,
            connections: 0,
            admitted,
            connections_by_transport: Default::default(),
        }
    }

    #[test]
    fn an_admission_confirms_what_was_asked_not_what_the_rate_added_meanwhile() {
        let sentence = admitted_sentence(25, &summary(42, 100), Some(&summary(15, 127)));
        assert_eq!(sentence, "Admitted 25 now.");
        let short = admitted_sentence(25, &summary(20, 0), Some(&summary(15, 5)));
        assert_eq!(
            short,
            "Admitted 5 of the 25 asked for: nobody else is waiting."
        );
    }

    #[test]
    fn a_refusal_says_what_and_why() {
        let error = ApiError::Refused {
            status: 400,
            message: "stock must be at most …".into(),
        };
        assert_eq!(
            Notice::refused("Stock change", &error).text,
            "Stock change refused: stock must be at most …"
        );
    }
}
