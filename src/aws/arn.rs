//! IAM role ARNs, as AWS validates them (AppConfig's RetrievalRoleArn and monitor AlarmRoleArn
//! pattern; STS's RoleArn).

/// The pattern AWS documents for role ARNs.
pub const ROLE_ARN_PATTERN: &str =
    r"^((arn):(aws|aws-cn|aws-iso|aws-iso-[a-z]{1}|aws-us-gov|aws-eusc):(iam)::\d{12}:role[/].*)$";

pub fn is_role_arn(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    let partition_ok = matches!(
        partition,
        "aws" | "aws-cn" | "aws-iso" | "aws-us-gov" | "aws-eusc"
    ) || partition
        .strip_prefix("aws-iso-")
        .is_some_and(|s| s.len() == 1 && s.bytes().all(|b| b.is_ascii_lowercase()));
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    let (account, resource) = rest.split_at_checked(12).unwrap_or(("", ""));
    partition_ok && account.bytes().all(|b| b.is_ascii_digit()) && resource.starts_with(":role/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_of_every_partition_pass_and_others_do_not() {
        assert!(is_role_arn("arn:aws:iam::123456789012:role/reader"));
        assert!(is_role_arn("arn:aws-iso-b:iam::123456789012:role/x"));
        assert!(is_role_arn("arn:aws:iam::123456789012:role/path/to/team-a"));
        assert!(!is_role_arn("arn:aws:iam::12345:role/reader"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/reader"));
        assert!(!is_role_arn("arn:aws:s3:::bucket"));
        assert!(!is_role_arn("team-a"));
    }
}
