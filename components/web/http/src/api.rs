//! The app's own HTTP API, called as any portal would: the user's bearer
//! token and, for staff, their stated purpose of use on every request, so
//! authentication, purpose, audit and field filtering stay the API's. The
//! base URL is the `web_api_base_url` variable; `http://self` chains back
//! into the app in-process on Spin and crm-host.

use serde_json::Value;
use spin_sdk::http::{Method, Request, Response};

/// A failed call: the API's problem (RFC 9457), or no answer at all.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the API answered {status} {kind}: {detail}")]
    Problem {
        status: u16,
        /// The problem's `type`, after `https://crm.gov.au/problems/`.
        kind: String,
        detail: String,
        /// Each failed field as (name, reason).
        errors: Vec<(String, String)>,
        /// The whole problem, for its extension members (a possible
        /// duplicate's `candidates`, a refused transition's `allowed`).
        body: Value,
    },
    #[error("the API could not be reached: {0}")]
    Unreachable(String),
}

/// A successful answer: its body and, for a versioned record, its `ETag`.
pub struct Answer {
    pub json: Value,
    pub etag: Option<String>,
}

pub struct Api<'a> {
    base: String,
    token: &'a str,
    purpose: Option<&'a str>,
}

impl<'a> Api<'a> {
    pub fn new(token: &'a str, purpose: Option<&'a str>) -> Self {
        let base = spin_sdk::variables::get("web_api_base_url")
            .unwrap_or_else(|_| "http://self".to_string());
        Self {
            base: base.trim_end_matches('/').to_string(),
            token,
            purpose,
        }
    }

    pub fn get(&self, path_and_query: &str) -> Result<Value, ApiError> {
        Ok(self.call(Method::Get, path_and_query, None, &[])?.json)
    }

    /// A read that also answers the record's version (`ETag`).
    pub fn get_versioned(&self, path: &str) -> Result<Answer, ApiError> {
        self.call(Method::Get, path, None, &[])
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        Ok(self.call(Method::Post, path, Some(body), &[])?.json)
    }

    /// A write the API keeps once under `key` (`Idempotency-Key`): sent
    /// again, as when a form is submitted twice, it answers the first.
    pub fn post_once(&self, path: &str, body: &Value, key: &str) -> Result<Value, ApiError> {
        Ok(self
            .call(Method::Post, path, Some(body), &[("idempotency-key", key)])?
            .json)
    }

    /// A change to the version `etag` names (`If-Match`).
    pub fn patch(&self, path: &str, body: &Value, etag: &str) -> Result<Value, ApiError> {
        Ok(self
            .call(Method::Patch, path, Some(body), &[("if-match", etag)])?
            .json)
    }

    /// A write that the API refuses (412) if the record is no longer at
    /// the version `etag` names.
    pub fn post_if_match(&self, path: &str, body: &Value, etag: &str) -> Result<Value, ApiError> {
        Ok(self
            .call(Method::Post, path, Some(body), &[("if-match", etag)])?
            .json)
    }

    fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Answer, ApiError> {
        let mut request = Request::builder();
        request
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("authorization", format!("Bearer {}", self.token))
            .header("accept", "application/json");
        if let Some(purpose) = self.purpose {
            request.header("purpose-of-use", purpose);
        }
        for (name, value) in headers {
            request.header(*name, *value);
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(serde_json::to_vec(body).expect("JSON values serialise"))
                .build(),
            None => request.build(),
        };
        let response: Response = spin_sdk::http::run(spin_sdk::http::send(request))
            .map_err(|e| ApiError::Unreachable(e.to_string()))?;
        let status = *response.status();
        let json: Value = serde_json::from_slice(response.body()).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            let etag = response
                .header("etag")
                .and_then(|v| v.as_str())
                .map(str::to_string);
            return Ok(Answer { json, etag });
        }
        Err(ApiError::Problem {
            status,
            kind: json["type"]
                .as_str()
                .and_then(|t| t.rsplit('/').next())
                .unwrap_or("unknown")
                .to_string(),
            detail: json["detail"].as_str().unwrap_or_default().to_string(),
            errors: json["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap_or_default().to_string(),
                        e["reason"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect(),
            body: json,
        })
    }
}

/// A path segment or query value, percent-encoded.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
