//! Properties of rendering over generated templates and values.

use crm_templates::{
    Personalisation, RenderError, Rendered, SmsEncoding, Template, TemplateType, Value, sms_length,
};
use proptest::prelude::*;

/// Template text made of formatting-heavy fragments and one placeholder
/// name, `p`, so values land in every position: link labels and targets,
/// headings, list items, after `https://`, next to `](`.
fn template_text() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        "[a-z #*\\[\\]<>&\"'=:/.^•1\n-]{0,6}",
        Just("((p))".to_string()),
        Just("https://a.gov.au/".to_string()),
        Just("[link](https://a.gov.au/".to_string()),
        Just("[".to_string()),
        Just(")".to_string()),
        Just("](".to_string()),
        Just("# ".to_string()),
        Just("* ".to_string()),
        Just("\n\n".to_string()),
        Just("href=".to_string()),
        Just("((p??shown https://b.gov.au))".to_string()),
    ];
    prop::collection::vec(fragment, 0..12).prop_map(|parts| parts.concat())
}

/// A value with at least one non-space character (a blank value may
/// rightly turn a line into a paragraph break).
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[click](http://evil)".to_string()),
        Just("<a href=\"http://evil\">x</a>".to_string()),
        Just("https://evil.example".to_string()),
        Just("yes".to_string()),
        "[a-zA-Z0-9<>\"'\\[\\]()=:/.#*^&;\n -]{0,12}",
        any::<String>(),
    ]
    .prop_filter("needs a visible character", |v| {
        v.chars().any(|c| !c.is_whitespace())
    })
}

fn markup_counts(html: &str) -> (usize, usize, usize) {
    (
        html.matches('<').count() - html.matches("<br>").count(),
        html.matches("href=").count(),
        html.matches("](").count(),
    )
}

/// Where each link goes: the scheme and host of every anchor's `href`
/// (only anchors: a link's own target may contain the text `href="`).
fn link_hosts(html: &str) -> Vec<&str> {
    html.split("<a href=\"")
        .skip(1)
        .map(|href| {
            let after_scheme = href.find("://").map_or(0, |i| i + 3);
            let end = href[after_scheme..]
                .find(['/', '?', '#', '"'])
                .map_or(href.len(), |i| after_scheme + i);
            &href[..end]
        })
        .collect()
}

fn render_html(template: &Template, value: &str) -> Result<String, RenderError> {
    match template.render(&Personalisation::new().with("p", value))? {
        Rendered::Email(message) => Ok(message.html),
        other => panic!("expected an email, got {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// A value never adds tags, attributes or link syntax: the HTML has as
    /// many as with an inert value in its place (line breaks aside), and
    /// every link goes where the template says.
    #[test]
    fn values_never_add_markup(body in template_text(), value in hostile_value()) {
        let template = Template::new(TemplateType::Email, Some("s"), &body).unwrap();
        // The inert value shows the same conditional text as the value.
        let inert = if Value::from(value.as_str()).is_truthy() { "yes" } else { "x" };
        let inert = render_html(&template, inert);
        let hostile = render_html(&template, &value);
        match (inert, hostile) {
            (Ok(inert), Ok(hostile)) => {
                prop_assert_eq!(markup_counts(&inert), markup_counts(&hostile), "{} | {}", inert, hostile);
                prop_assert_eq!(link_hosts(&inert), link_hosts(&hostile));
                prop_assert!(!hostile.contains("http://evil"));
            }
            (inert, hostile) => prop_assert_eq!(inert.is_ok(), hostile.is_ok()),
        }
    }

    /// Any text, as a template of any type with any values, parses or is
    /// refused, and renders or is refused, without panicking.
    #[test]
    fn never_panics(
        subject in any::<String>(),
        body in any::<String>(),
        values in prop::collection::vec((any::<String>(), any::<String>()), 0..4),
        list in prop::collection::vec(any::<String>(), 0..4),
    ) {
        for template_type in TemplateType::ALL {
            let subject = (template_type != TemplateType::Sms).then_some(subject.as_str());
            if let Ok(template) = Template::new(template_type, subject, &body) {
                let mut personalisation = Personalisation::new();
                for name in template.placeholders() {
                    personalisation.insert(name, Value::List(list.clone()));
                }
                for (name, value) in &values {
                    personalisation.insert(name, Value::Text(value.clone()));
                }
                let _ = template.render(&personalisation);
            }
        }
    }

    /// Placeholders written between plain text are found, in order.
    #[test]
    fn placeholders_are_found(
        parts in prop::collection::vec(("[^()]{0,8}", "[a-z][a-z0-9_ ]{0,8}"), 0..6),
    ) {
        let body: String = parts.iter().map(|(text, name)| format!("{text}(({name}))")).collect();
        let template = Template::new(TemplateType::Sms, None, &body).unwrap();
        let mut expected: Vec<String> = Vec::new();
        let key = |n: &str| n.replace([' ', '_'], "");
        for (_, name) in &parts {
            if !expected.iter().any(|e| key(e) == key(name)) {
                expected.push(name.trim().to_string());
            }
        }
        prop_assert_eq!(template.placeholders(), expected);
    }

    /// The fragments of a text message hold all of it, and one fewer would
    /// not.
    #[test]
    fn sms_fragments_are_the_fewest_that_fit(text in any::<String>()) {
        let length = sms_length(&text);
        let (single, part) = match length.encoding {
            SmsEncoding::Gsm7 => (160, 153),
            SmsEncoding::Ucs2 => (70, 67),
        };
        let units = match length.encoding {
            SmsEncoding::Gsm7 => text.chars().map(|c| if "\u{c}^{}\\[~]|€".contains(c) { 2 } else { 1 }).sum(),
            SmsEncoding::Ucs2 => length.characters,
        };
        let capacity = |fragments: usize| if fragments <= 1 { fragments * single } else { fragments * part };
        prop_assert!(capacity(length.fragments) >= units);
        if length.fragments > 0 {
            prop_assert!(capacity(length.fragments - 1) < units);
        }
    }
}

/// A case the property found: a template link whose target contains
/// `href=` confused the test's own href parser (the value stayed inert).
#[test]
fn a_value_beside_a_link_target_adds_no_markup() {
    let body = "[link](https://a.gov.au/href=)((p))https://a.gov.au/";
    let template = Template::new(TemplateType::Email, Some("s"), body).unwrap();
    let inert = render_html(&template, "x").unwrap();
    let hostile = render_html(&template, "[click](http://evil)").unwrap();
    assert_eq!(
        markup_counts(&inert),
        markup_counts(&hostile),
        "{inert} | {hostile}"
    );
    assert_eq!(link_hosts(&inert), link_hosts(&hostile));
    assert!(!hostile.contains("http://evil"), "{hostile}");
}
