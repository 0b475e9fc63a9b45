//! `client-classes`: each class's expressions parsed at load (a bad one is an error where
//! it is written, with the position in the expression, as Kea refuses it), and the class
//! guards of subnets, shared networks and pools.

use std::sync::Arc;

use tern_expr::{Expr, Kind, Names, Universe};

use crate::common::{Cx, Map};
use crate::dhcp::{read_option_defs, read_options, BootFields, OptionData, OptionDefData};
use crate::diag::{excerpt, Location};
use crate::option_defs;

/// One client class.
#[derive(Debug, Clone)]
pub struct ClientClass {
    /// Its name.
    pub name: String,
    /// `test`: a packet is in the class when it evaluates to true (none: only by a
    /// reservation, a guard's `require`/additional list, or a built-in rule).
    pub test: Option<Arc<Expr>>,
    /// `template-test` (Kea 2.3+): a string expression whose value names a spawned
    /// class `SPAWN_<name>_<value>`.
    pub template_test: Option<Arc<Expr>>,
    /// `only-if-required` (Kea 2.2) / `only-in-additional-list` (3.x): evaluated only
    /// when a subnet, network or pool lists it in `require-client-classes` /
    /// `evaluate-additional-classes`.
    pub additional: bool,
    /// The class's options.
    pub option_data: Vec<OptionData>,
    /// Option definitions given inside the class (DHCPv4; e.g. option 43 encapsulating a
    /// vendor space).
    pub option_defs: Vec<OptionDefData>,
    /// `next-server`, `server-hostname`, `boot-file-name` (DHCPv4).
    pub boot: BootFields,
    /// `valid-lifetime` (and its min/max) for leases of class members.
    pub valid_lifetime: Option<u32>,
    /// `min-valid-lifetime`.
    pub min_valid_lifetime: Option<u32>,
    /// `max-valid-lifetime`.
    pub max_valid_lifetime: Option<u32>,
    /// `preferred-lifetime` (DHCPv6).
    pub preferred_lifetime: Option<u32>,
    /// Where the class is.
    pub location: Location,
}

impl PartialEq for ClientClass {
    // Expressions compare by the text they came from (kept in `location` and the name
    // here is enough for configuration comparisons).
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.additional == other.additional
            && self.option_data == other.option_data
            && self.option_defs == other.option_defs
            && self.boot == other.boot
            && self.valid_lifetime == other.valid_lifetime
            && self.preferred_lifetime == other.preferred_lifetime
            && self.location == other.location
    }
}

/// Kea's built-in classes (set by the server, never by a `test`) and the prefixes of the
/// classes it assigns by rule (`VENDOR_CLASS_<vendor-class-identifier>`, HA's, …).
const BUILT_IN: &[&str] = &["ALL", "KNOWN", "UNKNOWN", "BOOTP"];
const BUILT_IN_PREFIXES: &[&str] = &["VENDOR_CLASS_", "HA_", "AFTER_", "EXTERNAL_"];

/// Whether `name` is a class Kea sets by itself.
pub fn is_built_in(name: &str) -> bool {
    BUILT_IN.contains(&name)
        || BUILT_IN_PREFIXES
            .iter()
            .any(|p| name.len() > p.len() && name.starts_with(p))
}

/// What an expression may name while the classes are read.
struct ConfigNames<'a> {
    v6: bool,
    defs: &'a [OptionDefData],
    defined: &'a [ClientClass],
    /// Any class name is accepted (flex-option's expressions, as Kea's hook parses
    /// them: it runs after classification).
    any_class: bool,
}

impl Names for ConfigNames<'_> {
    fn option_code(&self, name: &str) -> Option<u16> {
        if self.v6 {
            return option_defs::by_name6(name).map(|d| d.code);
        }
        option_defs::by_name(name)
            .map(|d| u16::from(d.code))
            .or_else(|| {
                self.defs
                    .iter()
                    .find(|d| d.space == "dhcp4" && d.name == name)
                    .map(|d| u16::from(d.code))
            })
    }

    fn class_defined(&self, name: &str) -> bool {
        // Kea accepts a built-in class, DROP and SKIP_DDNS (set from expressions), or
        // one defined earlier in the list.
        self.any_class || is_built_in(name) || self.defined.iter().any(|c| c.name == name)
    }
}

/// Parses the expression under `key` of `m`, if any. A bad one is an error at the file
/// position of the offending token when the expression is one line without escapes (its
/// characters are then the file's), else at the string.
fn parse_at(
    m: &Map<'_>,
    key: &str,
    kind: Kind,
    universe: Universe,
    names: &dyn Names,
    cx: &mut Cx,
) -> Result<Option<Arc<Expr>>, ()> {
    let Some(node) = m.get(key) else {
        return Ok(None);
    };
    let Some(text) = node.as_str() else {
        return Ok(None);
    };
    match Expr::parse(text, kind, universe, names) {
        Ok(e) => Ok(Some(Arc::new(e))),
        Err(e) => {
            let plain = e.line == 1 && !text.contains(['\\', '"', '\n']);
            let at = if plain {
                Location::new(
                    node.location.file.clone(),
                    node.location.line,
                    node.location.column + e.column,
                )
            } else {
                node.location.clone()
            };
            cx.error(
                &at,
                &m.path_of(key),
                format!("expression [{}]: {e}", excerpt(text)),
            );
            Err(())
        }
    }
}

/// What flex-option does with one option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlexAction {
    /// `add`: when the reply lacks the option and the value is not empty.
    Add,
    /// `supersede`: replaces the option when the value is not empty.
    Supersede,
    /// `remove`: removes the option when the (boolean) expression is true.
    Remove,
}

/// One entry of the flex-option hook's `options` (`libdhcp_flex_option.so`, built in).
#[derive(Debug, Clone)]
pub struct FlexOption {
    /// The option's code.
    pub code: u16,
    /// Its name, when given by name.
    pub name: Option<String>,
    /// What to do.
    pub action: FlexAction,
    /// The expression (a string for add and supersede, a boolean for remove).
    pub expr: Arc<Expr>,
    /// Only for packets in this class.
    pub client_class: Option<String>,
    /// The value is text for the option's definition (`csv-format` true), not its
    /// bytes.
    pub csv_format: bool,
    /// Where the entry is.
    pub location: Location,
}

impl PartialEq for FlexOption {
    fn eq(&self, o: &Self) -> bool {
        self.code == o.code && self.action == o.action && self.location == o.location
    }
}

/// The flex-option hook's entries of a section's `hooks-libraries`.
pub(crate) fn read_flex_options(
    sec: &Map<'_>,
    cx: &mut Cx,
    v6: bool,
    option_defs: &[OptionDefData],
) -> Vec<FlexOption> {
    let universe = if v6 { Universe::V6 } else { Universe::V4 };
    let names = ConfigNames {
        v6,
        defs: option_defs,
        defined: &[],
        any_class: true,
    };
    let mut out = Vec::new();
    for h in sec.maps("hooks-libraries") {
        let is_flex = h
            .str("library")
            .is_some_and(|l| crate::policy::hook_stem(l) == "libdhcp_flex_option");
        let Some(params) = h.map("parameters").filter(|_| is_flex) else {
            continue;
        };
        for o in params.maps("options") {
            let name = o.str("name").map(str::to_string);
            let code = match (o.get("code").and_then(|n| n.as_i64()), &name) {
                (Some(c), _) => u16::try_from(c).ok(),
                (None, Some(n)) => names.option_code(n),
                (None, None) => None,
            };
            let Some(code) = code.filter(|c| *c > 0 && (v6 || *c < 255)) else {
                cx.error(
                    o.location(),
                    &o.path,
                    "'code' or a known 'name' is required",
                );
                continue;
            };
            let actions: Vec<(&str, FlexAction)> = [
                ("add", FlexAction::Add),
                ("supersede", FlexAction::Supersede),
                ("remove", FlexAction::Remove),
            ]
            .into_iter()
            .filter(|(k, _)| o.has(k))
            .collect();
            let [(key, action)] = actions[..] else {
                cx.error(
                    o.location(),
                    &o.path,
                    "exactly one action of 'add', 'supersede' or 'remove' is required",
                );
                continue;
            };
            let kind = if action == FlexAction::Remove {
                Kind::Bool
            } else {
                Kind::String
            };
            let Ok(Some(expr)) = parse_at(&o, key, kind, universe, &names, cx) else {
                continue;
            };
            out.push(FlexOption {
                code,
                name,
                action,
                expr,
                client_class: o.non_empty_str("client-class").map(str::to_string),
                csv_format: o.bool("csv-format").unwrap_or(false),
                location: o.location().clone(),
            });
        }
    }
    out
}

/// Reads `client-classes` of a Dhcp4 (`v6` false) or Dhcp6 section.
pub(crate) fn read_classes(
    sec: &Map<'_>,
    cx: &mut Cx,
    v6: bool,
    option_defs: &[OptionDefData],
) -> Vec<ClientClass> {
    let universe = if v6 { Universe::V6 } else { Universe::V4 };
    let mut out: Vec<ClientClass> = Vec::new();
    for c in sec.maps("client-classes") {
        let Some(name) = c.required_str(cx, "name") else {
            continue;
        };
        let name_node = c.get("name").expect("read above");
        if name.is_empty() {
            cx.error(
                &name_node.location,
                &c.path_of("name"),
                "client class name must not be empty",
            );
            continue;
        }
        if out.iter().any(|o| o.name == name) {
            cx.error(
                &name_node.location,
                &c.path_of("name"),
                format!("client class '{name}' is already defined"),
            );
            continue;
        }
        if c.has("test") && c.has("template-test") {
            cx.error(
                c.location(),
                &c.path,
                "can not use both 'test' and 'template-test'",
            );
            continue;
        }
        let names = ConfigNames {
            v6,
            defs: option_defs,
            defined: &out,
            any_class: false,
        };
        let parse = |key: &str, string: bool, cx: &mut Cx| {
            let kind = if string { Kind::String } else { Kind::Bool };
            parse_at(&c, key, kind, universe, &names, cx)
        };
        let Ok(test) = parse("test", false, cx) else {
            continue;
        };
        let Ok(template_test) = parse("template-test", true, cx) else {
            continue;
        };
        let additional = c
            .bool("only-in-additional-list")
            .or_else(|| c.bool("only-if-required"))
            .unwrap_or(false);
        if BUILT_IN.contains(&name) {
            if test.is_some() {
                cx.error(
                    &name_node.location,
                    &c.path,
                    format!("built-in class '{name}' test expression must be empty"),
                );
                continue;
            }
            if additional {
                cx.error(
                    &name_node.location,
                    &c.path,
                    format!("built-in class '{name}' only-in-additional-list flag must be false"),
                );
                continue;
            }
        }
        let class_defs = if v6 {
            Vec::new()
        } else {
            read_option_defs(&c, cx)
        };
        out.push(ClientClass {
            name: name.to_string(),
            test,
            template_test,
            additional,
            option_data: read_options(&c, cx, v6),
            option_defs: class_defs,
            boot: if v6 {
                BootFields::default()
            } else {
                BootFields::read(&c, cx)
            },
            valid_lifetime: c.u32(cx, "valid-lifetime"),
            min_valid_lifetime: c.u32(cx, "min-valid-lifetime"),
            max_valid_lifetime: c.u32(cx, "max-valid-lifetime"),
            preferred_lifetime: if v6 {
                c.u32(cx, "preferred-lifetime")
            } else {
                None
            },
            location: c.location().clone(),
        });
    }
    out
}
