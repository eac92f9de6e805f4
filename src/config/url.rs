//! The URLs that are settings (the Honeybadger endpoint, the Honeycomb API
//! host): what each given URL becomes, or what to write instead.

/// The services whose URL is a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// `HONEYBADGER_ENDPOINT`: events go to `<base>/v1/events`.
    Honeybadger,
    /// `HONEYCOMB_API_HOST`: events go to `<host>/1/batch/<dataset>`.
    Honeycomb,
}

/// The base URL events go under, from the URL given for `service`; or,
/// when it cannot be used, what to write instead. A Honeybadger endpoint
/// given as the full events URL (`…/v1/events`, with or without a
/// trailing slash) is understood as its base; any other path, a query or
/// a fragment is refused, for either service (a Honeycomb host with the
/// dataset in its path too: the dataset is its own setting, which the URL
/// would silently override).
pub(crate) fn base_url(service: Service, given: &str) -> Result<String, String> {
    let v = given.trim();
    let url = match reqwest::Url::parse(v) {
        Ok(u)
            if matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            u
        }
        _ => return Err("not an http:// or https:// URL with a host".to_owned()),
    };
    let give = match service {
        Service::Honeybadger => "give the base URL, such as \"https://api.honeybadger.io\"; events are posted to <base>/v1/events",
        Service::Honeycomb => "give the host only, such as \"https://api.honeycomb.io\"; events are posted to <host>/1/batch/<HONEYCOMB_DATASET>",
    };
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("no query or fragment: {give}"));
    }
    let path = url.path();
    if path.is_empty() || path == "/" {
        return Ok(v.trim_end_matches('/').to_owned());
    }
    match service {
        Service::Honeybadger if path.trim_end_matches('/') == "/v1/events" => {
            let mut base = url.clone();
            base.set_path("");
            Ok(base.as_str().trim_end_matches('/').to_owned())
        }
        Service::Honeycomb if path.starts_with("/1/batch/") || path.starts_with("/1/events/") => Err(
            "the dataset is its own setting: give the host only, such as \"https://api.honeycomb.io\", and the dataset in HONEYCOMB_DATASET (Config::honeycomb_dataset); events are posted to <host>/1/batch/<HONEYCOMB_DATASET>".to_owned(),
        ),
        _ => Err(give.to_owned()),
    }
}
