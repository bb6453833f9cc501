//! The catalogs are complete and consistent, and the plural rules hold.

use super::*;

fn english() -> &'static Catalog {
    find("en").expect("English exists")
}

fn german() -> &'static Catalog {
    find("de").expect("German exists")
}

#[test]
fn english_is_the_fallback_and_german_is_there() {
    assert_eq!(LANGUAGES[0].lang, "en");
    assert!(LANGUAGES.len() >= 2);
    assert_eq!(choose(None, &[]).lang, "en");
}

/// Every language has every message (the compiler sees to that), each with the placeholders
/// English has, the number of plural forms its rule gives, and plain text only.
#[test]
fn every_message_exists_in_every_language_with_the_same_placeholders() {
    let reference = english().texts.entries();
    for catalog in LANGUAGES {
        let entries = catalog.texts.entries();
        assert_eq!(entries.len(), reference.len(), "{}", catalog.lang);
        for ((key, plural, forms), (en_key, _, en_forms)) in entries.iter().zip(&reference) {
            assert_eq!(key, en_key);
            let at = format!("{}.{key}", catalog.lang);
            if *plural {
                assert_eq!(
                    forms.len(),
                    catalog.plural_forms,
                    "{at}: one form per category"
                );
            }
            let mut expected = placeholders(en_forms[en_forms.len() - 1]);
            expected.sort_unstable();
            for form in *forms {
                assert!(!form.trim().is_empty(), "{at} is empty");
                assert!(
                    !form.contains(['<', '>', '&']),
                    "{at} must be plain text: it is written into markup"
                );
                let mut found = placeholders(form);
                found.sort_unstable();
                assert_eq!(found, expected, "{at}: placeholders of {form:?}");
            }
        }
        for n in 0..1000 {
            assert!(
                (catalog.plural)(n) < catalog.plural_forms,
                "{}: rule for {n}",
                catalog.lang
            );
        }
    }
}

#[test]
fn english_and_german_plurals_are_one_for_exactly_one() {
    for catalog in [english(), german()] {
        let minutes = |n| catalog.forms(catalog.texts.minutes, n);
        assert_eq!(minutes(1), catalog.texts.minutes.0[0], "{}", catalog.lang);
        for n in [0, 2, 5, 11, 21, 101] {
            assert_eq!(
                minutes(n),
                catalog.texts.minutes.0[1],
                "{}: {n}",
                catalog.lang
            );
        }
    }
    let de = german();
    assert_eq!(
        fill(de.forms(de.texts.minutes, 1), &[("n", "1")]),
        "1 Minute"
    );
    assert_eq!(
        fill(de.forms(de.texts.minutes, 21), &[("n", "21")]),
        "21 Minuten"
    );
    assert_eq!(
        fill(de.forms(de.texts.hours, 2), &[("n", "2")]),
        "2 Stunden"
    );
}

#[test]
fn the_locale_is_the_one_asked_for_else_the_browsers() {
    let browser = |tags: &[&str]| tags.iter().map(|t| (*t).to_owned()).collect::<Vec<_>>();
    assert_eq!(choose(Some("de"), &browser(&["en-US"])).lang, "de");
    assert_eq!(choose(Some("DE_at"), &[]).lang, "de");
    assert_eq!(
        choose(Some("xx"), &browser(&["fr-FR", "de-CH"])).lang,
        "de",
        "first known"
    );
    assert_eq!(choose(None, &browser(&["de-DE", "en"])).lang, "de");
    assert_eq!(choose(Some(""), &browser(&["ja"])).lang, "en", "fallback");
}

#[test]
fn placeholders_are_filled_by_name() {
    assert_eq!(
        fill("{a} of {b} left", &[("b", "5"), ("a", "3")]),
        "3 of 5 left"
    );
    assert_eq!(fill("no {x} here {", &[("y", "1")]), "no {x} here {");
    assert_eq!(fill("", &[]), "");
    assert_eq!(placeholders("{left} und {ahead}"), ["left", "ahead"]);
}

#[test]
fn the_catalog_in_use_is_per_thread() {
    use_catalog(german());
    assert_eq!(t().join, german().texts.join);
    let other = std::thread::spawn(|| t().join).join().expect("thread");
    assert_eq!(
        other,
        english().texts.join,
        "a new thread starts in English"
    );
    use_catalog(english());
}
