package policy

import (
	"strconv"
	"strings"
	"time"

	// Time zones must resolve even where the host has no zoneinfo (scratch
	// and distroless images); otherwise a valid policy would not compile.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"
)

// timeCrit matches the time of day in loc between start (inclusive) and
// end (exclusive), in seconds since midnight; end < start wraps midnight.
type timeCrit struct {
	loc        *time.Location
	start, end int
}

// timeOfDay compiles {between: ["09:00", "17:30"], timezone: "Europe/Paris"}.
func (c *compiler) timeOfDay(key, v *yaml.Node) criterion {
	t := timeCrit{loc: time.UTC}
	if v.Kind != yaml.MappingNode {
		c.fail(v, `write {between: ["09:00", "17:30"], timezone: "Europe/Paris"}`, "`time_of_day` needs a mapping, not %s", kindName(v))
		return t
	}
	names := []string{"between", "timezone"}
	seen := false
	for _, kv := range c.pairs(v) {
		label := "`" + kv[0].Value + "` for `time_of_day`"
		switch kv[0].Value {
		case "between":
			seen = true
			val := c.deref(kv[1])
			if val == nil {
				continue
			}
			list, ok := c.list(label, val)
			if ok && len(list) != 2 {
				c.fail(val, `write between: ["09:00", "17:30"]`, "%s needs exactly two times, not %d", label, len(list))
				ok = false
			}
			if !ok {
				continue
			}
			start, okStart := c.clock(val.Content[0], list[0], false)
			end, okEnd := c.clock(val.Content[1], list[1], true)
			if okStart && okEnd && start == end {
				c.fail(val, "to match all day, remove the rule", "%s is an empty range", label)
			}
			t.start, t.end = start, end
		case "timezone":
			t.loc = c.location(label, kv[1])
		default:
			c.fail(kv[0], expected(kv[0].Value, names), "unknown matcher `%s` for `%s`", kv[0].Value, key.Value)
		}
	}
	if !seen {
		c.fail(v, `write between: ["09:00", "17:30"]`, "`time_of_day` needs `between`")
	}
	return t
}

// clock parses "HH:MM" or "HH:MM:SS" into seconds since midnight; "24:00"
// is allowed as an end.
func (c *compiler) clock(n *yaml.Node, s string, end bool) (int, bool) {
	parts := strings.Split(s, ":")
	ok := len(parts) == 2 || len(parts) == 3
	secs := 0
	for i := 0; ok && i < 3; i++ {
		v := 0
		if i < len(parts) {
			var err error
			v, err = strconv.Atoi(parts[i])
			limit := 59
			if i == 0 {
				limit = 24
			}
			ok = len(parts[i]) == 2 && err == nil && v >= 0 && v <= limit
		}
		secs = secs*60 + v
	}
	if secs > 24*3600 || secs == 24*3600 && !end {
		ok = false
	}
	if !ok {
		c.fail(n, "expected HH:MM or HH:MM:SS, from 00:00 to 24:00", "invalid time `%s` for `time_of_day`", s)
	}
	return secs, ok
}

// location loads an IANA time zone.
func (c *compiler) location(label string, n *yaml.Node) *time.Location {
	name, ok := c.text(label, n)
	if !ok {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil || name == "Local" {
		c.fail(n, "expected an IANA name such as Europe/Paris or UTC", "unknown time zone `%s`", name)
		return time.UTC
	}
	return loc
}

func (t timeCrit) eval(in *Input, detail bool) (bool, string) {
	now := in.now().In(t.loc)
	h, m, s := now.Clock()
	secs := h*3600 + m*60 + s
	ok := t.start <= secs && secs < t.end
	if t.end < t.start {
		ok = secs >= t.start || secs < t.end
	}
	if detail {
		return ok, now.Format("15:04:05") + " " + t.loc.String()
	}
	return ok, ""
}

// dayCrit matches the weekday in loc: one of days (when any), none of notDays.
type dayCrit struct {
	loc           *time.Location
	days, notDays uint8 // bit i is time.Weekday(i)
}

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// dayOfWeek compiles `sat`, `[sat, sun]`, or {is, not, in, not_in, timezone}.
func (c *compiler) dayOfWeek(key, v *yaml.Node) criterion {
	d := dayCrit{loc: time.UTC}
	switch v.Kind {
	case yaml.ScalarNode:
		d.days = c.days("`day_of_week`", []*yaml.Node{v})
	case yaml.SequenceNode:
		if _, ok := c.list("`day_of_week`", v); ok {
			d.days = c.days("`day_of_week`", v.Content)
		}
	default:
		names := []string{"is", "not", "in", "not_in", "timezone"}
		given := false
		for _, kv := range c.pairs(v) {
			label := "`" + kv[0].Value + "` for `day_of_week`"
			val := c.deref(kv[1])
			name := kv[0].Value
			switch {
			case !contains(names, name):
				c.fail(kv[0], expected(name, names), "unknown matcher `%s` for `%s`", name, key.Value)
				continue
			case val == nil:
				continue
			case name == "timezone":
				d.loc = c.location(label, val)
				continue
			}
			given = true
			nodes := []*yaml.Node{val}
			if name == "in" || name == "not_in" {
				if _, ok := c.list(label, val); !ok {
					continue
				}
				nodes = val.Content
			}
			if name == "is" || name == "in" {
				d.days |= c.days(label, nodes)
			} else {
				d.notDays |= c.days(label, nodes)
			}
		}
		if !given {
			c.fail(v, "expected is, not, in or not_in", "`day_of_week` needs days")
		}
	}
	return d
}

// days parses day names (mon, Monday, …) into a bit set.
func (c *compiler) days(label string, nodes []*yaml.Node) uint8 {
	var set uint8
	for _, n := range nodes {
		s, ok := c.text(label, n)
		if !ok {
			continue
		}
		found := false
		l := strings.ToLower(s)
		for i, name := range dayNames {
			if l == name || l == strings.ToLower(time.Weekday(i).String()) {
				set |= 1 << i
				found = true
			}
		}
		if !found {
			c.fail(n, "expected mon, tue, wed, thu, fri, sat or sun", "unknown day `%s` for `day_of_week`", s)
		}
	}
	return set
}

func (d dayCrit) eval(in *Input, detail bool) (bool, string) {
	wd := in.now().In(d.loc).Weekday()
	bit := uint8(1) << wd
	ok := (d.days == 0 || d.days&bit != 0) && d.notDays&bit == 0
	if detail {
		return ok, dayNames[wd]
	}
	return ok, ""
}
