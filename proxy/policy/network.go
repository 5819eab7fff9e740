package policy

import (
	"errors"
	"net/netip"
	"strings"

	"gopkg.in/yaml.v3"
)

// ipCrit matches the source address against CIDRs: it must be in one of
// in (when given) and in none of notIn.
type ipCrit struct {
	in, notIn []netip.Prefix
}

// sourceIP compiles a CIDR, a list of CIDRs, or {is, in, not_in}.
func (c *compiler) sourceIP(key, v *yaml.Node) criterion {
	var ip ipCrit
	switch v.Kind {
	case yaml.ScalarNode:
		ip.in = c.prefixes("`source_ip`", []*yaml.Node{v})
	case yaml.SequenceNode:
		if _, ok := c.list("`source_ip`", v); ok {
			ip.in = c.prefixes("`source_ip`", v.Content)
		}
	default:
		names := []string{"is", "in", "not_in"}
		if len(v.Content) == 0 {
			c.fail(v, "expected one of is, in, not_in", "`source_ip` needs a matcher")
		}
		for _, kv := range c.pairs(v) {
			label := "`" + kv[0].Value + "` for `source_ip`"
			val := c.deref(kv[1])
			switch name := kv[0].Value; {
			case !contains(names, name):
				c.fail(kv[0], expected(name, names), "unknown matcher `%s` for `%s`", name, key.Value)
			case val == nil:
			case name == "is":
				ip.in = append(ip.in, c.prefixes(label, []*yaml.Node{val})...)
			case name == "in":
				if _, ok := c.list(label, val); ok {
					ip.in = append(ip.in, c.prefixes(label, val.Content)...)
				}
			default:
				if _, ok := c.list(label, val); ok {
					ip.notIn = c.prefixes(label, val.Content)
				}
			}
		}
	}
	return ip
}

// prefixes parses each node as a CIDR or a single address.
func (c *compiler) prefixes(label string, nodes []*yaml.Node) []netip.Prefix {
	var out []netip.Prefix
	for _, n := range nodes {
		s, ok := c.text(label, n)
		if !ok {
			continue
		}
		p, err := parsePrefix(s)
		if err != nil {
			c.fail(n, "expected an address or a CIDR such as 10.0.0.0/8 or 2001:db8::/32",
				"invalid CIDR `%s` for `source_ip`: %v", s, err)
			continue
		}
		out = append(out, p)
	}
	return out
}

// parsePrefix reads "10.0.0.0/8" or "10.1.2.3" (a /32). IPv4-mapped IPv6
// prefixes become IPv4 ones, as addresses are unmapped before matching.
func parsePrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, netipReason(err)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, netipReason(err)
		}
		if a.Zone() != "" {
			return p, errors.New("zones are not allowed")
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}

func (ip ipCrit) eval(in *Input, detail bool) (bool, string) {
	a := in.SourceIP
	if !a.IsValid() {
		return false, describe(values{}, detail)
	}
	a = a.Unmap().WithZone("")
	text := ""
	if detail {
		text = a.String()
	}
	ok := len(ip.in) == 0
	for _, p := range ip.in {
		if p.Contains(a) {
			ok = true
			break
		}
	}
	for _, p := range ip.notIn {
		if p.Contains(a) {
			return false, text
		}
	}
	return ok, text
}

// netipReason drops the `ParseAddr("…"): ` prefix netip puts on its errors,
// as our message already quotes the value.
func netipReason(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, "): "); i >= 0 {
		msg = msg[i+3:]
	}
	return errors.New(msg)
}
