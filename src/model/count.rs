//! How a count is written for people: `12,345`, the same in every table, note and page.

/// `n` with a comma between groups of three digits.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n` and the noun that agrees with it: "1 row", "2,000 rows".
pub fn plural(n: u64, one: &str, many: &str) -> String {
    match n {
        1 => format!("1 {one}"),
        _ => format!("{} {many}", thousands(n)),
    }
}

#[cfg(test)]
mod tests {
    use super::{plural, thousands};

    #[test]
    fn the_noun_agrees_with_the_count() {
        assert_eq!(plural(1, "row", "rows"), "1 row");
        assert_eq!(plural(0, "row", "rows"), "0 rows");
        assert_eq!(plural(1234, "team game", "team games"), "1,234 team games");
    }

    #[test]
    fn groups_of_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(2_147_483_648), "2,147,483,648");
    }
}
