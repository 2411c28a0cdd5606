//! `GET /api/contacts/export`: every contact the search filters match, as
//! CSV (header first, with only the columns the caller may see) or NDJSON
//! (one filtered record a line), streamed: the store is read in keyset
//! pages of [`EXPORT_PAGE`] in the search's stable order, and each page is
//! written to the response body (chunked, no `content-length`) as it is
//! read, so an export of any size holds one page in memory.
//!
//! Authentication, authorisation, purpose of use and every check of the
//! request run in `serve` and here before the first byte: their failures are
//! ordinary problem responses. Each page's contacts are in the audit trail
//! before a byte of them is written. A failure after the first byte (the
//! store, the trail, the client going away) cannot change the status any
//! more: the body is aborted, so the client sees a broken response rather
//! than a complete-looking short one, and the failure is audited as any
//! other.

use contacts_rules::bulk::{export_columns, export_row};
use contacts_rules::search::{EXPORT_PAGE, Export};
use contacts_store::Stored;
use crm_component_support::{Action, Ctx, FieldError, RecordKind, Target, query_param};
use crm_http::Problem;
use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse, Request, Response, ResponseOutparam};
use wasi::io::streams::{OutputStream, StreamError};

use crate::input::field_errors;
use crate::records::view;
use crate::search::{read_params, record_each};

enum Format {
    /// The columns the caller may see.
    Csv(Vec<&'static str>),
    Ndjson,
}

impl Format {
    fn content_type(&self) -> &'static str {
        match self {
            Format::Csv(_) => "text/csv; charset=utf-8",
            Format::Ndjson => "application/x-ndjson",
        }
    }

    /// Appends `found` to `into`.
    fn render(&self, ctx: &Ctx, found: &[Stored], into: &mut Vec<u8>) {
        for stored in found {
            match self {
                Format::Csv(columns) => {
                    let version = stored.version.to_string();
                    let leading = [
                        stored.id.as_str(),
                        &version,
                        &stored.created_at,
                        &stored.updated_at,
                    ];
                    let row = export_row(columns, leading, &stored.fields);
                    into.extend_from_slice(contacts_rules::csv::record(&row).as_bytes());
                }
                Format::Ndjson => {
                    into.extend_from_slice(view(ctx, stored).to_string().as_bytes());
                    into.push(b'\n');
                }
            }
        }
    }
}

/// Answers the export through `out`, which it takes once the first page is
/// read and audited. The `Response` it returns on success is never sent
/// (the answer has gone through `out`); an error before that is answered
/// as a problem by `serve`, and an error after it aborts the body.
pub fn export(
    ctx: &mut Ctx,
    req: &Request,
    out: &mut Option<ResponseOutparam>,
) -> Result<Response, Problem> {
    ctx.require(Action::ContactExport, Target::General, "contacts/export")?;
    let params = read_params(req, &["format"])?;
    let format = match query_param(req, "format").as_deref() {
        // Columns the caller may not see are left out altogether.
        None | Some("csv") => Format::Csv(export_columns(
            &ctx.hidden_fields(RecordKind::Contact, Target::General),
        )),
        Some("ndjson") => Format::Ndjson,
        Some(_) => {
            return Err(Problem::validation(vec![FieldError::new(
                "format",
                "must be csv or ndjson",
            )]));
        }
    };
    let mut export =
        Export::new(&params, EXPORT_PAGE).map_err(|e| Problem::validation(field_errors(e)))?;
    if export.uses_identifier {
        // Finding people by an identifier discloses who holds it.
        ctx.require(
            Action::ContactReadIdentifiers,
            Target::General,
            "contacts?identifier",
        )?;
    }
    let first = read_page(ctx, &mut export)?.unwrap_or_default();

    let mut body = Streamed::start(out, format.content_type(), &ctx.request_id)?;
    let mut chunk = Vec::new();
    if let Format::Csv(columns) = &format {
        let header: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
        chunk.extend_from_slice(contacts_rules::csv::record(&header).as_bytes());
    }
    format.render(ctx, &first, &mut chunk);
    drop(first);
    let streamed = (|| {
        body.write(&chunk)?;
        while let Some(page) = read_page(ctx, &mut export)? {
            chunk.clear();
            format.render(ctx, &page, &mut chunk);
            body.write(&chunk)?;
        }
        body.finish()
    })();
    if let Err(problem) = &streamed {
        eprintln!(
            "export {}: broken off after the first byte: {}",
            ctx.request_id, problem.detail
        );
    }
    streamed.map(|()| Response::new(200, ()))
}

/// The next page's contacts, recorded in the audit trail (all or none,
/// before any of them is written), or `None` once the export is complete.
fn read_page(ctx: &Ctx, export: &mut Export) -> Result<Option<Vec<Stored>>, Problem> {
    let Some(page) = export.next_page() else {
        return Ok(None);
    };
    let found = contacts_store::search(ctx.db()?, &page)?;
    let found = export.keep(&page, found, |s| (s.search_rowid, s.updated_at.as_str()));
    record_each(ctx, Action::ContactExport, &found)?;
    Ok(Some(found))
}

fn interrupted(detail: String) -> Problem {
    Problem::internal(detail).with_kind("export-interrupted", "Export interrupted")
}

fn broken(e: StreamError) -> Problem {
    interrupted(match e {
        StreamError::Closed => "the client closed the connection".into(),
        StreamError::LastOperationFailed(e) => {
            format!("writing the response body: {}", e.to_debug_string())
        }
    })
}

/// A 200 response whose body is written as it is produced. Dropped without
/// [`finish`](Self::finish), the body is aborted (the outgoing-body resource
/// is dropped unfinished), which the host passes on as a broken response.
/// (`OutgoingResponse::take_body`'s sink finishes the body when dropped, so
/// a failed export would end like a complete one.)
struct Streamed {
    stream: Option<OutputStream>,
    body: Option<OutgoingBody>,
}

impl Streamed {
    /// Sends the status and headers through `out` (taking it).
    fn start(
        out: &mut Option<ResponseOutparam>,
        content_type: &str,
        request_id: &str,
    ) -> Result<Self, Problem> {
        let failed = |what: &str| Problem::internal(format!("starting the response: {what}"));
        let headers = Fields::from_list(&[
            ("content-type".to_string(), content_type.as_bytes().to_vec()),
            ("x-request-id".to_string(), request_id.as_bytes().to_vec()),
        ])
        .map_err(|e| failed(&format!("{e:?}")))?;
        let response = OutgoingResponse::new(headers);
        response
            .set_status_code(200)
            .map_err(|()| failed("status"))?;
        let body = response.body().map_err(|()| failed("body"))?;
        let stream = body.write().map_err(|()| failed("body stream"))?;
        let streamed = Self {
            stream: Some(stream),
            body: Some(body),
        };
        let out = out.take().ok_or_else(|| failed("already answered"))?;
        out.set(response);
        Ok(streamed)
    }

    /// Writes all of `bytes` and flushes them towards the client.
    fn write(&mut self, mut bytes: &[u8]) -> Result<(), Problem> {
        let stream = self.stream.as_ref().expect("open until finished");
        while !bytes.is_empty() {
            let permitted = stream.check_write().map_err(broken)?;
            if permitted == 0 {
                stream.subscribe().block();
                continue;
            }
            let n = usize::try_from(permitted)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            stream.write(&bytes[..n]).map_err(broken)?;
            bytes = &bytes[n..];
        }
        stream.flush().map_err(broken)
    }

    /// Ends the body: the client sees a complete response.
    fn finish(&mut self) -> Result<(), Problem> {
        if let Some(stream) = self.stream.take() {
            stream.blocking_flush().map_err(broken)?;
        }
        let body = self.body.take().expect("finished once");
        OutgoingBody::finish(body, None)
            .map_err(|e| interrupted(format!("ending the response body: {e:?}")))
    }
}

impl Drop for Streamed {
    fn drop(&mut self) {
        // The stream is the body's child and goes first; a body still here
        // was not finished, and dropping it aborts the response.
        drop(self.stream.take());
        drop(self.body.take());
    }
}
