//! The pipe protocol between the daemon and a plugin's host process: length-prefixed frames
//! carrying the same bytes the C ABI carries (options, article JSON, query JSON, answers).
//!
//! A frame is a little-endian `u32` length, then that many bytes: one tag byte and the body.
//! Bodies that answer with a status (`Created`, `Answer`, `Done`) open with it as a
//! little-endian `u32`. The first frame the host sends is `Hello` (or `LoadError`), whose body
//! opens with [`MAGIC`], so that a program that is not a briefd plugin host (writing anything
//! else to its stdout) is refused instead of misread.

use std::io::{self, Read, Write};

use stage_api::abi::Status;

/// What `Hello` opens with.
pub(crate) const MAGIC: &[u8] = b"briefd-plugin-host/1\n";

/// The largest frame either side accepts. An article is at most `inbox.max_file_bytes` of raw
/// bytes, written as a JSON array of numbers (up to four bytes per byte), so 1 GiB leaves room
/// while still refusing a length read from garbage.
pub(crate) const MAX_FRAME_BYTES: usize = 1 << 30;

/// One message on the pipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Message {
    /// Host to daemon, first: the library is loaded; its name, its version and, when it is a
    /// story stage, `story`, tab-separated.
    Hello { name: String, version: String, story: bool },
    /// Host to daemon, first: the library could not be loaded; the loader's message.
    LoadError(String),
    /// Daemon to host: create the instance with these options (JSON).
    Create(Vec<u8>),
    /// Host to daemon: `create`'s status and message.
    Created(Status, Vec<u8>),
    /// Daemon to host: run `process` on this article (JSON).
    Process(Vec<u8>),
    /// Daemon to host: run `process_story` on this story (JSON); answered like `Process`.
    ProcessStory(Vec<u8>),
    /// Host to daemon, during `Process`: the plugin asks the context this (JSON).
    Query(Vec<u8>),
    /// Daemon to host: the answer to the last `Query`.
    Answer(Status, Vec<u8>),
    /// Host to daemon: `process`'s status and answer.
    Done(Status, Vec<u8>),
}

const HELLO: u8 = 1;
const LOAD_ERROR: u8 = 2;
const CREATE: u8 = 3;
const CREATED: u8 = 4;
const PROCESS: u8 = 5;
const QUERY: u8 = 6;
const ANSWER: u8 = 7;
const DONE: u8 = 8;
const PROCESS_STORY: u8 = 9;

impl Message {
    /// Writes the message as one frame and flushes.
    pub(crate) fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let mut body = Vec::new();
        let tag = match self {
            Message::Hello { name, version, story } => {
                body.extend_from_slice(MAGIC);
                let kind = if *story { "\tstory" } else { "" };
                body.extend_from_slice(format!("{name}\t{version}{kind}").as_bytes());
                HELLO
            }
            Message::LoadError(message) => {
                body.extend_from_slice(MAGIC);
                body.extend_from_slice(message.as_bytes());
                LOAD_ERROR
            }
            Message::Create(bytes) => with(&mut body, bytes, CREATE),
            Message::Process(bytes) => with(&mut body, bytes, PROCESS),
            Message::ProcessStory(bytes) => with(&mut body, bytes, PROCESS_STORY),
            Message::Query(bytes) => with(&mut body, bytes, QUERY),
            Message::Created(status, bytes) => with_status(&mut body, *status, bytes, CREATED),
            Message::Answer(status, bytes) => with_status(&mut body, *status, bytes, ANSWER),
            Message::Done(status, bytes) => with_status(&mut body, *status, bytes, DONE),
        };
        let len = u32::try_from(body.len() + 1)
            .ok()
            .filter(|&len| len as usize <= MAX_FRAME_BYTES)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "message too large for a frame"))?;
        out.write_all(&len.to_le_bytes())?;
        out.write_all(&[tag])?;
        out.write_all(&body)?;
        out.flush()
    }

    /// Reads one frame; `Ok(None)` at the end of the stream between frames.
    pub(crate) fn read(input: &mut impl Read) -> io::Result<Option<Message>> {
        let mut len = [0u8; 4];
        match input.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let len = u32::from_le_bytes(len) as usize;
        if len == 0 || len > MAX_FRAME_BYTES {
            return Err(invalid(format!("a frame of {len} bytes")));
        }
        let mut frame = Vec::new();
        Read::take(&mut *input, len as u64).read_to_end(&mut frame)?;
        if frame.len() < len {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the stream ended inside a frame"));
        }
        let body = frame.split_off(1);
        Message::decode(frame[0], body).map(Some)
    }

    fn decode(tag: u8, body: Vec<u8>) -> io::Result<Message> {
        let status = |body: Vec<u8>| -> io::Result<(Status, Vec<u8>)> {
            if body.len() < 4 {
                return Err(invalid("a status frame without its status".into()));
            }
            let status = Status(u32::from_le_bytes([body[0], body[1], body[2], body[3]]));
            Ok((status, body[4..].to_vec()))
        };
        let greeting = |body: Vec<u8>| -> io::Result<String> {
            let rest =
                body.strip_prefix(MAGIC).ok_or_else(|| invalid("a greeting without the magic".into()))?;
            Ok(String::from_utf8_lossy(rest).into_owned())
        };
        Ok(match tag {
            HELLO => {
                let text = greeting(body)?;
                let mut parts = text.split('\t');
                let name = parts.next().unwrap_or_default().to_string();
                let version = parts.next().unwrap_or_default().to_string();
                let story = parts.next() == Some("story");
                Message::Hello { name, version, story }
            }
            LOAD_ERROR => Message::LoadError(greeting(body)?),
            CREATE => Message::Create(body),
            PROCESS => Message::Process(body),
            PROCESS_STORY => Message::ProcessStory(body),
            QUERY => Message::Query(body),
            CREATED => status(body).map(|(s, b)| Message::Created(s, b))?,
            ANSWER => status(body).map(|(s, b)| Message::Answer(s, b))?,
            DONE => status(body).map(|(s, b)| Message::Done(s, b))?,
            other => return Err(invalid(format!("an unknown frame tag {other}"))),
        })
    }
}

fn with(body: &mut Vec<u8>, bytes: &[u8], tag: u8) -> u8 {
    body.extend_from_slice(bytes);
    tag
}

fn with_status(body: &mut Vec<u8>, status: Status, bytes: &[u8], tag: u8) -> u8 {
    body.extend_from_slice(&status.0.to_le_bytes());
    body.extend_from_slice(bytes);
    tag
}

fn invalid(what: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("broke the pipe protocol: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_survives_a_round_trip() {
        let messages = [
            Message::Hello { name: "segv".into(), version: "0.1.0".into(), story: false },
            Message::Hello { name: "story-topics".into(), version: "0.1.0".into(), story: true },
            Message::ProcessStory(b"{\"story_id\":3}".to_vec()),
            Message::LoadError("x.so: no such plugin file".into()),
            Message::Create(b"{\"mode\":\"noop\"}".to_vec()),
            Message::Created(Status::FAIL, b"options: unknown field".to_vec()),
            Message::Process(b"{}".to_vec()),
            Message::Query(b"{\"method\":\"article_count\"}".to_vec()),
            Message::Answer(Status::CONTINUE, b"{\"count\":5}".to_vec()),
            Message::Done(Status(42), Vec::new()),
        ];
        let mut pipe = Vec::new();
        for message in &messages {
            message.write(&mut pipe).unwrap();
        }
        let mut input = &pipe[..];
        for message in &messages {
            assert_eq!(Message::read(&mut input).unwrap().as_ref(), Some(message));
        }
        assert_eq!(Message::read(&mut input).unwrap(), None, "the end between frames is a clean end");
    }

    #[test]
    fn a_stream_cut_inside_a_frame_is_an_error_not_an_end() {
        let mut pipe = Vec::new();
        Message::Process(b"{\"text\": \"abc\"}".to_vec()).write(&mut pipe).unwrap();
        pipe.truncate(pipe.len() - 3);
        let error = Message::read(&mut &pipe[..]).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    }

    /// What another program prints (a test harness, a shell) is refused, not read as a length
    /// of gigabytes or a message.
    #[test]
    fn text_from_another_program_is_refused() {
        let error = Message::read(&mut &b"running 3 tests\ntest a ... ok\n"[..]).unwrap_err();
        assert!(error.to_string().contains("broke the pipe protocol"), "{error}");
        let mut pipe = Vec::new();
        Message::Process(b"hello".to_vec()).write(&mut pipe).unwrap();
        pipe[4] = HELLO;
        let error = Message::read(&mut &pipe[..]).unwrap_err();
        assert!(error.to_string().contains("without the magic"), "{error}");
    }
}
