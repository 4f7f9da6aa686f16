//! Which site a text came from: the host of its URL, as stages compare and show it.

/// The host of an http(s)-style URL, lower-cased, without a leading `www.`:
/// "https://www.example.com/news" gives "example.com". `None` when the text has no host with a
/// dot (a file path, a bare word).
pub fn host_of(url: &str) -> Option<String> {
    let rest = url.trim().split_once("://")?.1;
    let host = rest.split(['/', '?', '#']).next()?.rsplit('@').next()?.split(':').next()?;
    let host = host.strip_prefix("www.").unwrap_or(host).to_ascii_lowercase();
    (host.contains('.') && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .then_some(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_urls() {
        assert_eq!(host_of("https://www.Reuters.com/world/x?y=1").as_deref(), Some("reuters.com"));
        assert_eq!(host_of("http://user@news.example.co.uk:8080/a").as_deref(), Some("news.example.co.uk"));
        assert_eq!(host_of("not a url"), None);
        assert_eq!(host_of("file:///tmp/x"), None);
    }
}
