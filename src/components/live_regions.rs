//! The page's two live regions for screen readers, present from the start (a region added
//! with its text is often not read): a polite one for the place in line, written only when
//! the page's [`crate::announce::Announcer`] says so, and an assertive one for the turn,
//! written once. The page writes both directly; nothing here is bound to the model.

/// The two regions and the action note (a refusal, as a sentence).
pub fn html(_: &crate::i18n::Texts) -> String {
    concat!(
        r#"<p class="lq-visually-hidden lq-announce" aria-live="polite" aria-atomic="true"></p>"#,
        r#"<p class="lq-visually-hidden lq-alert" aria-live="assertive" aria-atomic="true"></p>"#,
        r#"<p class="lq-note" role="status" hidden></p>"#,
    )
    .to_owned()
}

/// The note of the last refusal.
pub const BINDINGS: &[super::bind::Bind] = &[
    super::bind::Bind::Attr(".lq-note", "hidden", |m| {
        super::bind::hidden(m.note.is_some())
    }),
    super::bind::Bind::Text(".lq-note", |m| m.note.unwrap_or_default()),
];
