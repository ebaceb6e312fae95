//! The `appconfig-operator emulator` command: flags, the listening log line, a request, and a
//! clean stop on SIGTERM.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

use serde_json::Value;

use crate::clients;

fn emulator_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_appconfig-operator"));
    command.arg("emulator");
    command
}

#[test]
fn bad_flags_are_refused_naming_the_flag() {
    for (flag, value, expected) in [
        ("--time-scale", "0", "must be a positive number"),
        ("--account-id", "12ab", "must be 12 digits"),
        (
            "--environment-state-style",
            "kebab",
            "possible values: camel, screaming",
        ),
        (
            "--step-schedule",
            "random",
            "possible values: documented, observed",
        ),
    ] {
        let output = emulator_command().args([flag, value]).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(flag) && stderr.contains(expected),
            "{flag}: {stderr}"
        );
    }
}

#[test]
fn an_occupied_port_is_reported() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = emulator_command()
        .args(["--listen", &address])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot listen on {address}")),
        "{stderr}"
    );
}

#[tokio::test]
async fn serves_logs_each_request_and_stops_on_sigterm() {
    let mut child = emulator_command()
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut next_log = move || -> Value {
        let line = lines.next().expect("a log line").unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    };
    let listening = next_log();
    let url = listening["endpoint_url"]
        .as_str()
        .expect("the endpoint URL is logged")
        .to_owned();

    let created = clients::appconfig(&url)
        .create_application()
        .name("from-the-binary")
        .send()
        .await
        .unwrap();
    assert!(created.id.is_some());
    let request = next_log();
    assert_eq!(request["operation"], "CreateApplication");
    assert_eq!(request["status"], 201);
    assert!(request["duration_us"].is_u64(), "{request}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(
        child.wait().unwrap().success(),
        "a clean exit after SIGTERM"
    );
}
