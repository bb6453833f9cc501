//! Creating an experience: id, name, stock, rate and checkout address, checked before they
//! are sent, and the server's refusal (a taken id, a bad address) shown as it says it.

use leptos::prelude::*;
use livequeue_protocol::ExperienceId;
use livequeue_protocol::api::CreateExperience;

use crate::api::Operator;
use crate::controls::{Notice, parse_count, parse_rate};

/// The form's fields as typed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    /// The id.
    pub id: String,
    /// The display name.
    pub name: String,
    /// Units, as typed.
    pub stock: String,
    /// Admissions per minute, as typed.
    pub rate: String,
    /// Where admitted shoppers check out; empty: the server's own `/checkout/{id}`.
    pub checkout_url: String,
}

impl Draft {
    /// The request, or the first field that is wrong and why.
    pub fn request(&self) -> Result<CreateExperience, String> {
        let id: ExperienceId = self
            .id
            .trim()
            .parse()
            .map_err(|_| "The id takes 1 to 64 letters, digits, - and _.".to_owned())?;
        let name = self.name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err("The name takes 1 to 200 characters.".into());
        }
        let stock =
            parse_count(&self.stock, 0..=1_000_000_000).map_err(|e| format!("Stock: {e}"))?;
        let rate = parse_rate(&self.rate).map_err(|e| format!("Rate: {e}"))?;
        let checkout_url = match self.checkout_url.trim() {
            "" => format!("/checkout/{}", id.as_str()),
            url => url.to_owned(),
        };
        Ok(CreateExperience {
            id: id.as_str().to_owned(),
            name: name.to_owned(),
            stock,
            admission_rate_per_minute: rate,
            checkout_url,
            grant_ttl_seconds: None,
        })
    }
}

/// The form.
#[component]
pub fn CreateForm(
    /// Who creates it.
    operator: Operator,
    /// Where the answer goes.
    notice: WriteSignal<Option<Notice>>,
    /// The new experience's id, once created.
    created: Callback<String>,
) -> impl IntoView {
    let draft = RwSignal::new(Draft {
        stock: "500".into(),
        rate: "60".into(),
        ..Default::default()
    });
    let busy = RwSignal::new(false);
    let on_submit = move |event: web_sys::SubmitEvent| {
        event.prevent_default();
        let request = match draft.get_untracked().request() {
            Ok(request) => request,
            Err(why) => {
                notice.set(Some(Notice::invalid(why)));
                return;
            }
        };
        busy.set(true);
        let operator = operator.clone();
        leptos::task::spawn_local(async move {
            match operator.create(&request).await {
                Ok(summary) => {
                    notice.set(Some(Notice::done(format!(
                        "Created {} ({}): open, {} per minute.",
                        summary.name, summary.id, summary.admission_rate_per_minute
                    ))));
                    draft.set(Draft {
                        stock: "500".into(),
                        rate: "60".into(),
                        ..Default::default()
                    });
                    created.run(summary.id);
                }
                Err(error) => notice.set(Some(Notice::refused("Creating the experience", &error))),
            }
            busy.set(false);
        });
    };
    let field = move |id: &'static str,
                      label: &'static str,
                      get: fn(&Draft) -> String,
                      set: fn(&mut Draft, String)| {
        view! {
            <label for=id>{label}</label>
            <input
                id=id
                autocomplete="off"
                prop:value=move || draft.with(get)
                on:input=move |ev| draft.update(|d| set(d, event_target_value(&ev)))
            />
        }
    };
    view! {
        <form class="create" on:submit=on_submit aria-label="Create an experience">
            <h2>"New experience"</h2>
            <div class="fields">
                {field("lq-new-id", "Id", |d| d.id.clone(), |d, v| d.id = v)}
                {field("lq-new-name", "Name", |d| d.name.clone(), |d, v| d.name = v)}
                {field("lq-new-stock", "Stock", |d| d.stock.clone(), |d, v| d.stock = v)}
                {field("lq-new-rate", "Per minute", |d| d.rate.clone(), |d, v| d.rate = v)}
                {field("lq-new-checkout", "Checkout URL (optional)", |d| d.checkout_url.clone(), |d, v| d.checkout_url = v)}
            </div>
            <button type="submit" disabled=move || busy.get()>"Create"</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft {
            id: "spring-drop".into(),
            name: "Spring drop".into(),
            stock: "1,000".into(),
            rate: "90".into(),
            checkout_url: String::new(),
        }
    }

    #[test]
    fn a_complete_draft_becomes_a_request_with_the_servers_checkout() {
        let request = draft().request().unwrap();
        assert_eq!(request.stock, 1_000);
        assert_eq!(request.checkout_url, "/checkout/spring-drop");
    }

    #[test]
    fn each_wrong_field_is_named() {
        let mut bad = draft();
        bad.id = "no spaces".into();
        assert!(bad.request().unwrap_err().contains("id"));
        let mut bad = draft();
        bad.name = " ".into();
        assert!(bad.request().unwrap_err().contains("name"));
        let mut bad = draft();
        bad.stock = "lots".into();
        assert!(bad.request().unwrap_err().starts_with("Stock"));
        let mut bad = draft();
        bad.rate = "-5".into();
        assert!(bad.request().unwrap_err().starts_with("Rate"));
    }
}
