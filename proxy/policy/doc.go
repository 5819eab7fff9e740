// Package policy is Drawbridge's policy language: it parses, validates,
// compiles, evaluates and explains the allow/deny rules attached to routes.
// The language follows Pomerium's Policy Language (PPL), so PPL rules carry
// over unchanged; where the two differ, it is said below.
//
// # Documents
//
// A policy is one YAML (or JSON) document holding an allow block, a deny
// block, or both:
//
//	allow:
//	  and:
//	    - domain: {is: company.com}
//	    - groups: {has: engineering}
//	deny:
//	  or:
//	    - mcp_tool: {starts_with: admin_}
//	    - mcp_tool: {in: [delete_repo, drop_table]}
//
// As in PPL, the document may instead be a list of such objects
// (`- allow: …` / `- deny: …`); their blocks simply add up.
//
// # Decisions
//
// A message is denied if any deny block matches; otherwise it is allowed if
// any allow block matches; otherwise it is denied ("no allow rule
// matched"). Deny always wins. Several policies on one route: the message
// is allowed when at least one policy allows it and none denies it; a
// route with no policy denies everything. Policies are evaluated per
// JSON-RPC message.
//
// # Blocks and operators
//
// A block's value is a mapping of operators, each holding a non-empty list
// of rules:
//
//	and  every rule matches                      A ∧ B
//	or   at least one rule matches               A ∨ B
//	not  no rule matches (PPL's definition)      ¬A ∧ ¬B
//	nor  not every rule matches (PPL's)          ¬A ∨ ¬B
//
// Note the PPL names: `not` is "none of", and `nor` is "not all of".
// When one block holds several operators they are alternatives, as in PPL:
// `allow: {and: [A, B], not: [C]}` allows when A ∧ B, or when ¬C. To
// require both, nest them: `allow: {and: [{and: [A, B]}, {not: [C]}]}`.
//
// A block whose value is a bare list (`allow: [- email: …]`) is an error,
// because it is unclear whether the list means and or or; PPL rejects it
// too. Write `and:` or `or:` above the list.
//
// A rule is a mapping with exactly one key: either a criterion
// (`- email: {is: alice@company.com}`) or a nested operator
// (`- or: [ … ]`), nested up to 32 levels.
//
// # Criteria
//
//	accept               true: always matches
//	authenticated_user   true: a signed-in user, or a service account acting
//	                     for one; false: an anonymous caller
//	email                the user's email (string matchers, case-insensitive)
//	domain               the part of the email after the last @ (likewise)
//	user                 the user id (exact) or the email (case-insensitive):
//	                     a positive matcher holds if it holds for either; not
//	                     and not_in must hold for both
//	groups               the user's groups (list matchers; a bare value is has)
//	claim/<name>         the identity claim <name> (value matchers)
//	service_account      the service account's name (string matchers); or
//	                     true / false: the caller is / is not one
//	client               the registered OAuth client's id or name, as for user
//	mcp_method           the JSON-RPC method, e.g. tools/call
//	mcp_tool             the tool name of a tools/call
//	mcp_argument/<ptr>   a tools/call argument, <ptr> being an RFC 6901 JSON
//	                     pointer without its leading slash: mcp_argument/repo,
//	                     mcp_argument/filter/0/name; inside a name write ~ as
//	                     ~0 and / as ~1 (value matchers)
//	http_method          the HTTP method, e.g. POST
//	http_path            the HTTP path, e.g. /mcp
//	source_ip            the caller's address: a CIDR, a list of CIDRs, or
//	                     {is: cidr, in: [cidrs], not_in: [cidrs]}; a bare
//	                     address is a /32 or /128; IPv4-mapped IPv6 addresses
//	                     match IPv4 CIDRs
//	time_of_day          {between: ["09:00", "17:30"], timezone: Europe/Paris}:
//	                     from the first time (included) to the second
//	                     (excluded); a range whose end is before its start
//	                     crosses midnight (["22:00", "06:00"]); HH:MM or
//	                     HH:MM:SS, 24:00 allowed as an end; time zone UTC
//	                     when not given
//	day_of_week          a day, a list of days, or {is, not, in, not_in,
//	                     timezone}; days are mon … sun or monday … sunday
//
// Identity criteria (email, domain, user, groups, claim/…, service_account)
// never match an anonymous caller, whatever their matcher.
//
// # Missing values
//
// A value the message does not have — no email, no tool (any message other
// than tools/call), no such claim or argument, no source address — matches
// no matcher at all, not even the negative ones (not, not_in, exclude). So
// `mcp_tool: {not_in: [a, b]}` is false for tools/list, and a deny rule on
// mcp_tool never blocks initialize or tools/list. The one exception is
// `exists: false`, which matches exactly a missing claim or argument. To
// say "missing or different", wrap a positive rule in `not:`.
//
// Consequently, as Pomerium advises, restrict tools under deny, not allow:
// `allow: {and: [{mcp_tool: {in: [read]}}]}` also refuses initialize and
// tools/list, which carry no tool.
//
// # String matchers
//
//	is           equal
//	not          present and not equal
//	starts_with  has the prefix
//	ends_with    has the suffix
//	contains     has the substring
//	in           equal to one of a list
//	not_in       present and equal to none of a list
//	matches      an RE2 regular expression that must match the WHOLE value:
//	             `matches: "db_.*"` is true for db_query and false for
//	             my_db_query. Anchors are implied; write `.*` where you
//	             mean "anything"
//
// A matcher mapping with several keys requires all of them:
// `{starts_with: db_, not: db_admin}`. A bare value means is
// (`email: alice@company.com`), a bare list means in. Values must be
// non-empty; numbers and booleans count as written (`is: 42`).
// Emails and domains compare without regard to case, everything else
// exactly.
//
// # List and value matchers
//
// groups takes has (contains the value), has_any (contains one of a list),
// has_all (contains all of a list), exclude (contains none of a value or
// list) and is (is exactly a list of that one value).
//
// claim/<name> and mcp_argument/<ptr> read a value that may be a string, a
// number, a boolean, a list of those, null or an object. They take the
// list matchers above (a single value counting as a list of one), every
// string matcher (which needs a single value: a scalar, or a list of one
// item), and exists: true / false. A bare value means has. Numbers and
// booleans are compared by their JSON text: 42, 2.5, true. null and
// objects match only exists: true. Claims and arguments compare exactly.
//
// # Tool arguments
//
// A tools/call's arguments are decoded once per message, on the first
// mcp_argument rule that needs them. A call whose arguments are not valid
// JSON, or repeat a key (even differing only in case), is denied by every
// policy that has an mcp_argument rule.
//
// # Errors
//
// Parse reports every problem at once as Errors, each with the policy
// name, the line and column, and what was expected, for example:
//
//	policy "eng": unknown matcher `frobnicate` for `mcp_tool` at line 4, column 9; expected one of is, not, starts_with, ends_with, contains, in, not_in, matches
//
// Unknown keys, criteria, operators and matchers (with a "did you mean"
// when close), bad regular expressions (RE2's message), bad CIDRs, times
// and time zones, lists where a value is needed and the reverse, empty
// lists, rules with two keys, duplicate keys and YAML aliases are errors.
//
// # Evaluating
//
// Policy.Evaluate and Evaluate return a Decision with its reasons: the
// policy, block, rule path (deny.or[1].mcp_tool), criterion, line and the
// value that matched. Policy.Allowed and Allowed give the same answer
// without reasons and without allocating. Policy.Explain traces every rule
// for the console's simulator.
package policy
