use envparity_report::{OutputFormat, render};

use crate::support::*;

#[test]
fn format_names_parse_back() {
    for format in OutputFormat::ALL {
        assert_eq!(format.name().parse::<OutputFormat>(), Ok(format));
        assert_eq!(format.to_string(), format.name());
    }
    assert_eq!("md".parse::<OutputFormat>(), Ok(OutputFormat::Markdown));
    assert_eq!("JSON".parse::<OutputFormat>(), Ok(OutputFormat::Json));
    let err = "yaml".parse::<OutputFormat>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown report format `yaml`: expected one of text, json, markdown, junit, sarif, html"
    );
}

#[test]
fn every_format_is_deterministic_and_ends_with_a_newline() {
    for report in [sample(), nasty(), large(40, 6), report().build()] {
        for format in OutputFormat::ALL {
            for options in [plain(), verbose(), color()] {
                let once = render(&report, format, &options);
                assert_eq!(once, render(&report, format, &options), "{format}");
                assert!(once.ends_with('\n'), "{format}");
                assert!(!once.ends_with("\n\n"), "{format}");
            }
        }
    }
}

#[test]
fn only_text_uses_colour() {
    for format in OutputFormat::ALL {
        if format == OutputFormat::Text {
            continue;
        }
        for report in [sample(), nasty()] {
            let out = render(&report, format, &color());
            assert!(!out.contains('\u{1b}'), "{format}: {out}");
        }
    }
}

#[test]
fn every_format_shows_the_shared_secret_by_its_hash() {
    let report = sample();
    for format in OutputFormat::ALL {
        for options in [plain(), verbose()] {
            let out = render(&report, format, &options);
            assert!(out.contains("3f2a9c1e0b7d"), "{format}");
            assert!(out.contains("shared-secret"), "{format}");
        }
    }
}
