//! `guest-streamer`: sends its status and headers, streams `part-1`, pauses
//! long enough that the host streams rather than buffers the answer, streams
//! `part-2`, then ends as `?then=` says: `finish` (a complete body), `trap`
//! (panics mid-stream) or `abort` (drops the body without finishing it).

use spin_sdk::http::{Fields, OutgoingBody, OutgoingResponse, Request, ResponseOutparam};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: Request, out: ResponseOutparam) {
    let then = req
        .query()
        .split('&')
        .find_map(|pair| pair.strip_prefix("then="))
        .unwrap_or("finish")
        .to_string();
    let response = OutgoingResponse::new(Fields::new());
    response.set_status_code(200).expect("status");
    let body = response.body().expect("body");
    let stream = body.write().expect("body stream");
    out.set(response);
    stream
        .blocking_write_and_flush(b"part-1\n")
        .expect("write part 1");
    std::thread::sleep(std::time::Duration::from_millis(50));
    stream
        .blocking_write_and_flush(b"part-2\n")
        .expect("write part 2");
    drop(stream);
    match then.as_str() {
        "trap" => panic!("streamer asked to trap mid-stream"),
        "abort" => drop(body),
        _ => OutgoingBody::finish(body, None).expect("finish"),
    }
}
