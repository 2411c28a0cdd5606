//! Letters as PDFs: a precompiled letter's PDF as Notify takes it (base64
//! in `content`), when a letter's PDF can be had, and a templated letter
//! rendered to an A4 PDF.
//!
//! Rendering uses `pdf-writer` with the standard Helvetica fonts (every PDF
//! reader has them, so nothing is embedded and the component stays small);
//! text is WinAnsi-encoded, and a character outside it prints as `?`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};

use crate::NotificationStatus;

/// The largest precompiled PDF taken, decoded (Notify's limit for a file a
/// service uploads).
pub const MAX_PRECOMPILED_PDF_BYTES: usize = 2 * 1024 * 1024;

/// Why a precompiled letter's `content` is refused, in Notify's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PrecompiledError {
    #[error("Cannot decode letter content (invalid base64 encoding)")]
    NotBase64,
    #[error("Letter content is not a valid PDF")]
    NotAPdf,
    #[error("Letter content is larger than 2MB")]
    TooLarge,
}

/// A precompiled letter's PDF: decoded, starting with the PDF header and
/// ending with its end-of-file marker, at most [`MAX_PRECOMPILED_PDF_BYTES`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecompiledPdf(Vec<u8>);

impl PrecompiledPdf {
    /// From a request's base64 `content` (whitespace between lines allowed,
    /// as encoders wrap it).
    pub fn from_base64(content: &str) -> Result<Self, PrecompiledError> {
        let compact: String = content.split_ascii_whitespace().collect();
        // Checked before decoding, so an oversized body is not decoded.
        if compact.len() > MAX_PRECOMPILED_PDF_BYTES.div_ceil(3) * 4 {
            return Err(PrecompiledError::TooLarge);
        }
        let bytes = STANDARD
            .decode(compact)
            .map_err(|_| PrecompiledError::NotBase64)?;
        Self::from_bytes(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, PrecompiledError> {
        if bytes.len() > MAX_PRECOMPILED_PDF_BYTES {
            return Err(PrecompiledError::TooLarge);
        }
        // `%PDF-` first (readers allow it within the first KiB; Notify's
        // printers do not) and `%%EOF` within the last KiB, as the PDF
        // specification places them: a truncated upload fails here.
        let tail = &bytes[bytes.len().saturating_sub(1024)..];
        let ends = tail.windows(5).any(|w| w == b"%%EOF");
        if !bytes.starts_with(b"%PDF-") || !ends {
            return Err(PrecompiledError::NotAPdf);
        }
        Ok(Self(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// Why a letter's PDF cannot be had now, in Notify's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfUnavailable {
    /// Notify's `PDFNotReadyError`: ask again later.
    #[error("PDF not available yet, try again later")]
    NotReady,
    #[error("File did not pass the virus scan")]
    VirusScanFailed,
    #[error("PDF not available for letters in status {}", .0.as_str())]
    Failed(NotificationStatus),
}

/// Whether a letter in `status` has a PDF to give. The CRM validates a
/// precompiled PDF and keeps it in the request that sends it, and renders a
/// templated letter from content fixed when it was sent, so a letter's PDF
/// is ready as soon as its send is answered: only a letter waiting for a
/// virus scan (`pending-virus-check`) is not ready yet, and letters that
/// failed their checks or their hand-over have none, as on Notify.
pub fn letter_pdf_availability(status: NotificationStatus) -> Result<(), PdfUnavailable> {
    use NotificationStatus::*;
    match status {
        PendingVirusCheck => Err(PdfUnavailable::NotReady),
        VirusScanFailed => Err(PdfUnavailable::VirusScanFailed),
        TechnicalFailure | ValidationFailed => Err(PdfUnavailable::Failed(status)),
        _ => Ok(()),
    }
}

/// What a templated letter shows.
#[derive(Debug, Clone, Copy)]
pub struct LetterContent<'a> {
    /// The address, 3 to 7 lines, the last a postcode or country.
    pub address: &'a [String],
    /// The sender's contact block, top right, one entry per line.
    pub contact_block: Option<&'a str>,
    /// The date printed on it (`7 December 2026`).
    pub date: &'a str,
    pub subject: &'a str,
    /// The body as text: paragraphs split by blank lines.
    pub body: &'a str,
}

/// A4 in points, and where things go on it (Notify's letter layout: the
/// address in the envelope window, top left, 24 mm from the left edge).
const PAGE: (f32, f32) = (595.0, 842.0);
const MARGIN_LEFT: f32 = 68.0;
const MARGIN_BOTTOM: f32 = 60.0;
const TOP: f32 = 790.0;
const CONTACT_LEFT: f32 = 380.0;
const ADDRESS_TOP: f32 = 690.0;
const BODY_TOP_FIRST_PAGE: f32 = 560.0;
const SIZE: f32 = 11.0;
const LEADING: f32 = 15.0;
/// Characters a body line holds at 11 pt Helvetica (about 5.5 pt each on
/// average) across the 460 pt between the margins.
const LINE_CHARS: usize = 82;

/// A templated letter as a PDF: the contact block, the address and the date
/// on the first page, then the subject in bold and the body, wrapped at
/// word boundaries onto as many pages as it takes.
pub fn render_letter(letter: &LetterContent<'_>) -> Vec<u8> {
    let regular = Name(b"F1");
    let bold = Name(b"F2");
    let mut pages: Vec<Content> = Vec::new();
    let mut page = Content::new();
    let mut y = TOP;
    let line = |page: &mut Content, font: Name, x: f32, y: f32, text: &str| {
        page.begin_text();
        page.set_font(font, SIZE);
        page.next_line(x, y);
        page.show(Str(&win_ansi(text)));
        page.end_text();
    };
    for text in letter.contact_block.unwrap_or_default().lines() {
        line(&mut page, regular, CONTACT_LEFT, y, text);
        y -= LEADING;
    }
    let mut y = ADDRESS_TOP;
    for text in letter.address {
        line(&mut page, regular, MARGIN_LEFT, y, text);
        y -= LEADING;
    }
    y -= LEADING;
    line(&mut page, regular, MARGIN_LEFT, y, letter.date);
    let mut y = BODY_TOP_FIRST_PAGE.min(y - 2.0 * LEADING);
    line(&mut page, bold, MARGIN_LEFT, y, letter.subject);
    y -= 2.0 * LEADING;
    for text in wrap(letter.body, LINE_CHARS) {
        if y < MARGIN_BOTTOM {
            pages.push(std::mem::replace(&mut page, Content::new()));
            y = TOP;
        }
        if !text.is_empty() {
            line(&mut page, regular, MARGIN_LEFT, y, &text);
        }
        y -= LEADING;
    }
    pages.push(page);

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let (regular_ref, bold_ref) = (Ref::new(3), Ref::new(4));
    let page_refs: Vec<(Ref, Ref)> = (0..pages.len() as i32)
        .map(|i| (Ref::new(5 + 2 * i), Ref::new(6 + 2 * i)))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_refs.iter().map(|(page, _)| *page))
        .count(pages.len() as i32);
    for (font, base) in [(regular_ref, "Helvetica"), (bold_ref, "Helvetica-Bold")] {
        pdf.type1_font(font)
            .base_font(Name(base.as_bytes()))
            .encoding_predefined(Name(b"WinAnsiEncoding"));
    }
    for ((page_ref, content_ref), content) in page_refs.into_iter().zip(pages) {
        let mut page = pdf.page(page_ref);
        page.media_box(Rect::new(0.0, 0.0, PAGE.0, PAGE.1));
        page.parent(tree);
        page.contents(content_ref);
        page.resources()
            .fonts()
            .pair(regular, regular_ref)
            .pair(bold, bold_ref);
        drop(page);
        pdf.stream(content_ref, &content.finish());
    }
    pdf.finish()
}

/// `text`'s lines wrapped at word boundaries to at most `width` characters
/// (a longer word is cut); blank lines are kept.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for source in text.lines() {
        let mut current = String::new();
        for word in source.split_whitespace() {
            let mut word = word.to_string();
            loop {
                let needed = current.chars().count() + usize::from(!current.is_empty());
                if needed + word.chars().count() <= width {
                    if !current.is_empty() {
                        current.push(' ');
                    }
                    current.push_str(&word);
                    break;
                }
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                    continue;
                }
                let cut: String = word.chars().take(width).collect();
                word = word.chars().skip(width).collect();
                out.push(cut);
            }
        }
        out.push(current);
    }
    out
}

/// `text` in WinAnsiEncoding (Windows-1252), the standard fonts' encoding.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => c as u8,
            '\u{20ac}' => 0x80,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdf_of(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    #[test]
    fn a_precompiled_letter_must_be_a_whole_pdf_of_at_most_2_mib() {
        let pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
        let wrapped: String = pdf_of(&pdf)
            .as_bytes()
            .chunks(20)
            .map(|c| format!("{}\n", std::str::from_utf8(c).unwrap()))
            .collect();
        assert_eq!(
            PrecompiledPdf::from_base64(&wrapped).unwrap().as_bytes(),
            pdf
        );
        assert_eq!(
            PrecompiledPdf::from_base64("not base64!"),
            Err(PrecompiledError::NotBase64)
        );
        assert_eq!(
            PrecompiledPdf::from_base64(&pdf_of(b"hello, not a PDF %%EOF")),
            Err(PrecompiledError::NotAPdf)
        );
        // Cut short: no end-of-file marker.
        assert_eq!(
            PrecompiledPdf::from_base64(&pdf_of(&pdf[..pdf.len() - 7])),
            Err(PrecompiledError::NotAPdf)
        );
        let mut large = b"%PDF-1.7\n".to_vec();
        large.resize(MAX_PRECOMPILED_PDF_BYTES - 6, b' ');
        large.extend_from_slice(b"%%EOF\n");
        assert!(PrecompiledPdf::from_base64(&pdf_of(&large)).is_ok());
        large.insert(10, b' ');
        assert_eq!(
            PrecompiledPdf::from_base64(&pdf_of(&large)),
            Err(PrecompiledError::TooLarge)
        );
        assert_eq!(
            PrecompiledPdf::from_base64(&"A".repeat(4 * MAX_PRECOMPILED_PDF_BYTES)),
            Err(PrecompiledError::TooLarge)
        );
    }

    #[test]
    fn a_letters_pdf_is_ready_unless_it_waits_for_a_scan_or_failed() {
        use NotificationStatus::*;
        for ready in [Created, Accepted, Received, Cancelled, PermanentFailure] {
            assert_eq!(letter_pdf_availability(ready), Ok(()));
        }
        assert_eq!(
            letter_pdf_availability(PendingVirusCheck),
            Err(PdfUnavailable::NotReady)
        );
        assert_eq!(
            PdfUnavailable::NotReady.to_string(),
            "PDF not available yet, try again later"
        );
        assert_eq!(
            letter_pdf_availability(TechnicalFailure)
                .unwrap_err()
                .to_string(),
            "PDF not available for letters in status technical-failure"
        );
        assert_eq!(
            letter_pdf_availability(VirusScanFailed),
            Err(PdfUnavailable::VirusScanFailed)
        );
    }

    fn letter(body: &str) -> Vec<u8> {
        let address = [
            "A. Resident".to_string(),
            "1 High Street".into(),
            "SW1A 1AA".into(),
        ];
        render_letter(&LetterContent {
            address: &address,
            contact_block: Some("Benefits Office\nPO Box 1"),
            date: "7 December 2026",
            subject: "Your claim \u{2019}26",
            body,
        })
    }

    #[test]
    fn a_templated_letter_renders_as_a_pdf_with_its_text() {
        let pdf = letter("Dear resident,\n\nYour claim is approved. Caf\u{e9} \u{4e2d}");
        assert!(pdf.starts_with(b"%PDF-"));
        assert!(
            PrecompiledPdf::from_bytes(pdf.clone()).is_ok(),
            "a whole PDF"
        );
        let text = String::from_utf8_lossy(&pdf);
        for shown in [
            "(Benefits Office)",
            "(PO Box 1)",
            "(A. Resident)",
            "(SW1A 1AA)",
            "(7 December 2026)",
            // Not ASCII, so written in hex: "Caf\xe9 ?" in WinAnsi.
            "436166E9203F> Tj",
            // The subject's right single quote is WinAnsi's 0x92.
            "20923236> Tj",
            "/Helvetica-Bold",
            "/WinAnsiEncoding",
        ] {
            assert!(text.contains(shown), "{shown} in {text}");
        }
        assert!(text.contains("/Count 1"), "{text}");
    }

    #[test]
    fn a_long_letter_goes_on_to_more_pages() {
        let long = vec!["A paragraph of the letter that goes on."; 120].join("\n\n");
        let text = String::from_utf8_lossy(&letter(&long)).into_owned();
        let pages: usize = text
            .split("/Count ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(pages >= 5, "{pages} pages");
        assert_eq!(text.matches("/MediaBox").count(), pages);
    }

    #[test]
    fn body_lines_wrap_at_word_boundaries() {
        assert_eq!(
            wrap("one two three\n\nfour", 8),
            ["one two", "three", "", "four"]
        );
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    }
}
