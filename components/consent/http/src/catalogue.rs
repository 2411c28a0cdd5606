//! The catalogues consent refers to. Purposes are revised by appending a
//! revision; privacy notice versions are immutable and consecutive. Anyone
//! signed in may read them (they are public statements, about no one);
//! administrators change them.

use consent_rules::{
    LanguageTag, LawfulBasis, MAX_NOTICE_TITLE_CHARS, NoticeContent, NoticeError, NoticeId,
    NoticeVersion, PrivacyNotice, Purpose, PurposeCategory, PurposeError, PurposeId,
    check_next_version,
};
use consent_store as store;
use crm_component_support::{Action, Ctx, Target, created, json, json_body, now_ms, transaction};
use crm_domain::ShortText;
use crm_http::Problem;
use serde::Deserialize;
use spin_sdk::http::{Request, Response};

use crate::{Fields, view};

/// `GET /api/consents/purposes`: the current revision of each purpose.
pub fn list_purposes(ctx: &Ctx) -> Result<Response, Problem> {
    let purposes: Vec<_> = store::purposes(ctx.db()?)?
        .iter()
        .map(view::purpose)
        .collect();
    Ok(json(200, &serde_json::json!({ "purposes": purposes })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PurposeBody {
    /// Given when creating; when revising, the path names it.
    id: Option<String>,
    category: String,
    lawful_basis: String,
    description: String,
}

impl PurposeBody {
    fn parse(&self, id: &str) -> Result<Purpose, Problem> {
        let mut fields = Fields::default();
        let id = fields.check("id", PurposeId::parse(id));
        let category = fields.check("category", PurposeCategory::parse(&self.category));
        let basis = fields.check("lawful_basis", LawfulBasis::parse(&self.lawful_basis));
        let purpose = match (id, category, basis) {
            (Some(id), Some(category), Some(basis)) => {
                match Purpose::new(id, category, basis, &self.description) {
                    Ok(purpose) => Some(purpose),
                    Err(e @ PurposeError::Description { .. }) => {
                        fields.fail("description", e.to_string());
                        None
                    }
                    Err(e) => {
                        fields.fail("lawful_basis", e.to_string());
                        None
                    }
                }
            }
            _ => None,
        };
        fields.finish(purpose)
    }
}

/// `POST /api/consents/purposes`: a new purpose, as revision 1.
pub fn create_purpose(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let body: PurposeBody = json_body(req)?;
    let id = body.id.clone().unwrap_or_default();
    ctx.require(
        Action::ConsentCatalogueManage,
        Target::General,
        &format!("consent-purpose/{id}"),
    )?;
    let purpose = body.parse(&id)?;
    let entry = write_revision(ctx, purpose, |latest| match latest {
        None => Ok(1),
        Some(_) => Err(Problem::conflict(
            "purpose-exists",
            format!("purpose {id} exists: revise it with PUT /api/consents/purposes/{id}"),
        )),
    })?;
    Ok(json(201, &view::purpose(&entry)))
}

/// `PUT /api/consents/purposes/{id}`: the purpose's next revision. Records
/// keep the lawful basis they were given under.
pub fn revise_purpose(ctx: &mut Ctx, req: &Request, id: &str) -> Result<Response, Problem> {
    let body: PurposeBody = json_body(req)?;
    ctx.require(
        Action::ConsentCatalogueManage,
        Target::General,
        &format!("consent-purpose/{id}"),
    )?;
    if body.id.as_deref().is_some_and(|named| named != id) {
        return Err(Problem::validation(vec![crm_http::FieldError::new(
            "id",
            "must match the path, or be left out",
        )]));
    }
    let purpose = body.parse(id)?;
    let entry = write_revision(ctx, purpose, |latest| {
        latest
            .map(|revision| revision + 1)
            .ok_or_else(|| Problem::not_found(format!("no consent-purpose/{id}")))
    })?;
    Ok(json(200, &view::purpose(&entry)))
}

/// Appends `purpose` as the revision `next` picks from the latest one.
fn write_revision(
    ctx: &Ctx,
    purpose: Purpose,
    next: impl FnOnce(Option<i64>) -> Result<i64, Problem>,
) -> Result<store::PurposeEntry, Problem> {
    let by = ctx.actor_id();
    transaction(ctx.db()?, |db| {
        let latest = store::latest_revision(db, &purpose.id().to_string())?;
        let revision = next(latest.map(|l| l.revision))?;
        // The time is taken under the write lock, never before the latest
        // revision's, so a later revision is never in force before an
        // earlier one.
        let now = latest
            .map(|l| l.revised_at_ms)
            .into_iter()
            .fold(now_ms(), i64::max);
        let entry = store::PurposeEntry {
            purpose,
            revision,
            revised_at_ms: now,
            revised_by: by,
        };
        store::insert_purpose(db, &entry)?;
        Ok(entry)
    })
}

/// `GET /api/privacy-notices`: every version, without inline text.
pub fn list_notices(ctx: &Ctx) -> Result<Response, Problem> {
    let notices: Vec<_> = store::notices(ctx.db()?, None)?
        .iter()
        .map(|n| view::notice(n, false))
        .collect();
    Ok(json(
        200,
        &serde_json::json!({ "privacy_notices": notices }),
    ))
}

/// `GET /api/privacy-notices/{id}/versions/{version}`: one version, with
/// its text.
pub fn get_notice(ctx: &Ctx, id: &str, version: &str) -> Result<Response, Problem> {
    let missing = || Problem::not_found(format!("no privacy notice {id} version {version}"));
    let version: i64 = version.parse().map_err(|_| missing())?;
    let notice = store::notice(ctx.db()?, id, version)?.ok_or_else(missing)?;
    Ok(json(200, &view::notice(&notice, true)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoticeBody {
    id: String,
    version: i64,
    language: String,
    title: String,
    text: Option<String>,
    url: Option<String>,
}

/// `POST /api/privacy-notices`: publishes the next version of a notice.
pub fn publish_notice(ctx: &mut Ctx, req: &Request) -> Result<Response, Problem> {
    let body: NoticeBody = json_body(req)?;
    ctx.require(
        Action::ConsentCatalogueManage,
        Target::General,
        &format!("privacy-notice/{}/{}", body.id, body.version),
    )?;
    let mut fields = Fields::default();
    let id = fields.check("id", NoticeId::parse(&body.id));
    let version = fields.check("version", NoticeVersion::parse(body.version));
    let language = fields.check("language", LanguageTag::parse(&body.language));
    let title = fields.check(
        "title",
        ShortText::parse(&body.title, MAX_NOTICE_TITLE_CHARS),
    );
    let content = fields.check(
        "text",
        NoticeContent::parse(body.text.as_deref(), body.url.as_deref()),
    );
    let mut notice = fields.finish((|| {
        Some(PrivacyNotice {
            id: id?,
            version: version?,
            language: language?,
            title: title?,
            content: content?,
            published_at_ms: 0,
        })
    })())?;
    let by = ctx.actor_id();
    let notice = transaction(ctx.db()?, |db| {
        let published = store::notices(db, Some((notice.id.as_str(), None)))?;
        // The time is taken under the write lock, never before an earlier
        // version's, so versions are in force in the order they were published.
        notice.published_at_ms = published
            .iter()
            .map(|p| p.published_at_ms)
            .fold(now_ms(), i64::max);
        check_next_version(&published, &notice).map_err(|e| match e {
            NoticeError::VersionExists { .. } => {
                Problem::conflict("notice-version-exists", e.to_string())
            }
            _ => Problem::conflict("notice-version-out-of-sequence", e.to_string()),
        })?;
        store::insert_notice(db, &notice, &by)?;
        Ok(notice)
    })?;
    Ok(created(
        &format!(
            "/api/privacy-notices/{}/versions/{}",
            notice.id,
            notice.version.get()
        ),
        &view::notice(&notice, true),
    ))
}
