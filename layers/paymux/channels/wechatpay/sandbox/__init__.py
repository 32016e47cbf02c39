"""The built-in WeChat Pay sandbox: plays WeChat Pay's side of API v3 offline (signed answers,
signed and encrypted notifications, trade bills), keeping its trades in a `SandboxStore`."""
