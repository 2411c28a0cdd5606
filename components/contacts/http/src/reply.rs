//! A successful answer as data, so that an idempotent POST can store it and
//! answer a retry with the same thing.

use crm_http::IDEMPOTENT_REPLAYED_HEADER;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use spin_sdk::http::Response;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reply {
    pub status: u16,
    pub location: Option<String>,
    pub etag: Option<String>,
    pub body: Value,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            location: None,
            etag: None,
            body,
        }
    }

    pub fn with_location(mut self, location: String) -> Self {
        self.location = Some(location);
        self
    }

    pub fn with_etag(mut self, etag: String) -> Self {
        self.etag = Some(etag);
        self
    }

    /// The response; `replayed` marks the answer to a retried request.
    pub fn into_response(self, replayed: bool) -> Response {
        let mut response = crm_component_support::json(self.status, &self.body);
        if let Some(location) = &self.location {
            response.set_header("location", location);
        }
        if let Some(etag) = &self.etag {
            response.set_header("etag", etag);
        }
        if replayed {
            response.set_header(IDEMPOTENT_REPLAYED_HEADER, "true");
        }
        response
    }
}
