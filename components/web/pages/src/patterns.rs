//! GOV.UK Frontend patterns as Rust types: what a template needs to draw a
//! form field, a radio group, a summary list row or the error summary.

/// What every page around its content shows: the generic service header (no
/// crown, no logotype), who is signed in, the staff member's purpose.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub service_name: &'static str,
    /// Where the service name in the header links to.
    pub home: &'static str,
    /// The fingerprinted stylesheet and script.
    pub css: String,
    pub js: String,
    pub nav: Vec<NavItem>,
    pub user: Option<SignedIn>,
    pub purpose: Option<PurposeBanner>,
    /// A success message after a POST–redirect–GET.
    pub banner: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The signed-in user, and the CSRF token the sign-out form carries.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub label: String,
    pub csrf: String,
}

/// The staff member's stated purpose of use, shown on every console page.
#[derive(Debug, Clone)]
pub struct PurposeBanner {
    pub purpose: String,
    pub change_href: String,
}

/// One failed field: `field` is the id of the input the error summary links
/// to (a radio group's first radio has the group's name as its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    pub field: String,
    pub message: String,
}

/// The page's errors, in the order of its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Errors(Vec<PageError>);

impl Errors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(PageError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, PageError> {
        self.0.iter()
    }

    /// The message for `field`, for its inline error.
    pub fn for_field(&self, field: &str) -> Option<String> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.clone())
    }
}

/// A posted form's value of `name` ("" when it has none).
pub fn posted<'f>(form: &'f [(String, String)], name: &str) -> &'f str {
    form.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// A text input or textarea with what was typed and its inline error.
#[derive(Debug, Clone)]
pub struct Field {
    /// The element's id, which the error summary links to: the name, unless
    /// the page repeats the field.
    pub id: String,
    pub name: String,
    pub label: String,
    pub hint: Option<&'static str>,
    pub input_type: &'static str,
    pub autocomplete: Option<&'static str>,
    pub value: String,
    pub error: Option<String>,
}

impl Field {
    pub fn text(name: &str, label: &str) -> Self {
        Self {
            id: name.to_string(),
            name: name.to_string(),
            label: label.to_string(),
            hint: None,
            input_type: "text",
            autocomplete: None,
            value: String::new(),
            error: None,
        }
    }

    /// For a field a page repeats (one reply box per case).
    pub fn id(mut self, id: String) -> Self {
        self.id = id;
        self
    }

    pub fn hint(mut self, hint: &'static str) -> Self {
        self.hint = Some(hint);
        self
    }

    pub fn input_type(mut self, input_type: &'static str) -> Self {
        self.input_type = input_type;
        self
    }

    pub fn autocomplete(mut self, autocomplete: &'static str) -> Self {
        self.autocomplete = Some(autocomplete);
        self
    }

    /// What the user typed, and the error for it if there is one.
    pub fn filled(mut self, value: &str, errors: &Errors) -> Self {
        self.value = value.to_string();
        self.error = errors.for_field(&self.id);
        self
    }
}

/// A radio group: one of `choices`.
#[derive(Debug, Clone)]
pub struct Radios {
    pub name: &'static str,
    pub legend: &'static str,
    pub choices: Vec<Choice>,
    pub error: Option<String>,
}

impl Radios {
    /// `options` as (value, label), `chosen` checked.
    pub fn new(
        name: &'static str,
        legend: &'static str,
        options: &[(&str, &str)],
        chosen: Option<&str>,
        errors: &Errors,
    ) -> Self {
        Self {
            name,
            legend,
            choices: options
                .iter()
                .map(|(value, label)| Choice {
                    value: value.to_string(),
                    label: label.to_string(),
                    checked: chosen == Some(*value),
                })
                .collect(),
            error: errors.for_field(name),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub checked: bool,
}

/// A summary list row: a value's lines, and where it came from (provenance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    pub key: String,
    pub lines: Vec<String>,
    pub source: Option<String>,
}

/// Tick boxes: any of `choices` (GOV.UK checkboxes).
#[derive(Debug, Clone)]
pub struct Checkboxes {
    pub name: &'static str,
    pub legend: &'static str,
    pub choices: Vec<Choice>,
}

impl Checkboxes {
    /// `options` as (value, label), those in `chosen` ticked.
    pub fn new(
        name: &'static str,
        legend: &'static str,
        options: &[(&str, &str)],
        chosen: &[String],
    ) -> Self {
        Self {
            name,
            legend,
            choices: options
                .iter()
                .map(|(value, label)| Choice {
                    value: value.to_string(),
                    label: label.to_string(),
                    checked: chosen.iter().any(|c| c == value),
                })
                .collect(),
        }
    }
}

/// A drop-down list: one of `choices` (`checked` is the one selected).
#[derive(Debug, Clone)]
pub struct Select {
    pub name: &'static str,
    pub label: &'static str,
    pub choices: Vec<Choice>,
    pub error: Option<String>,
}

impl Select {
    /// `options` as (value, label), `chosen` selected.
    pub fn new(
        name: &'static str,
        label: &'static str,
        options: &[(&str, &str)],
        chosen: &str,
        errors: &Errors,
    ) -> Self {
        Self {
            name,
            label,
            choices: options
                .iter()
                .map(|(value, label)| Choice {
                    value: value.to_string(),
                    label: label.to_string(),
                    checked: chosen == *value,
                })
                .collect(),
            error: errors.for_field(name),
        }
    }
}

/// A date as day, month and year boxes (GOV.UK date input); its error is
/// reported against the day box, `{id}-day`.
#[derive(Debug, Clone)]
pub struct DateInput {
    pub id: &'static str,
    pub legend: &'static str,
    pub hint: &'static str,
    pub day: String,
    pub month: String,
    pub year: String,
    pub error: Option<String>,
}

/// A link that leads to another page (an action, a section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub href: String,
    pub label: String,
    pub current: bool,
}
