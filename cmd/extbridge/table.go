package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// command is one entry of the shell's command table. The table generates
// help and `help CMD`, checks the arguments, drives Tab completion and
// suggests the nearest command for a typo.
type command struct {
	name    string
	aliases []string
	forms   [][]arg // the accepted argument lists; usage is made from them
	summary string  // one line, for help
	help    string  // more, for help CMD
	example string  // one or more example lines, for help CMD
	run     func(ctx context.Context, s *shell, c *call) (result, error)
}

// arg is one argument of a command form.
type arg struct {
	name string   // a literal word ("bg"), or a placeholder ("TAB")
	lit  []string // the literal's spellings; empty for a placeholder
	opt  bool     // may be left out (only at the end of a form)
	rest bool     // takes the rest of the line as typed (JS, JSON)
	comp func(s *shell, c *call) []string
}

func (a arg) usage() string {
	switch {
	case a.opt:
		return "[" + a.name + "]"
	case a.rest:
		return a.name + "…"
	}
	return a.name
}

// call is one command line, parsed.
type call struct {
	cmd    *command
	line   string
	args   []string // the words after the command name, $tab and $port replaced
	form   []arg    // the form the words matched
	lineNo int      // the line in a script, 0 when typed
}

// has reports whether argument i was given.
func (c *call) has(i int) bool { return i < len(c.args) }

// rest is the line as typed from argument i on.
func (c *call) rest(i int) string { return restAfter(c.line, i+1) }

// int parses argument i as the form's placeholder names it.
func (c *call) int(i int) (int, error) {
	n, err := strconv.Atoi(c.args[i])
	if err != nil {
		what := "argument"
		if i < len(c.form) {
			what = c.form[i].name
		}
		return 0, fmt.Errorf("%s: %q is not a number", what, c.args[i])
	}
	return n, nil
}

// intOr parses argument i, or gives def when it was left out.
func (c *call) intOr(i, def int) (int, error) {
	if !c.has(i) {
		return def, nil
	}
	return c.int(i)
}

// usage lines of a command, one per form.
func (cmd *command) usages() []string {
	if len(cmd.forms) == 0 {
		return []string{cmd.name}
	}
	var out []string
	for _, f := range cmd.forms {
		words := []string{cmd.name}
		for _, a := range f {
			words = append(words, a.usage())
		}
		out = append(out, strings.Join(words, " "))
	}
	return out
}

// match finds the form that args fit.
func (cmd *command) match(args []string) ([]arg, error) {
	if len(cmd.forms) == 0 && len(args) == 0 {
		return nil, nil
	}
	for _, f := range cmd.forms {
		if fits(f, args, false) {
			return f, nil
		}
	}
	return nil, fmt.Errorf("usage: %s", strings.Join(cmd.usages(), " | "))
}

// fits reports whether args fit form f; partial allows fewer words than
// required (for completion).
func fits(f []arg, args []string, partial bool) bool {
	required := 0
	for _, a := range f {
		if !a.opt {
			required++
		}
	}
	for i, w := range args {
		if i >= len(f) {
			return false
		}
		a := f[i]
		if a.rest {
			return true
		}
		if len(a.lit) > 0 && !contains(a.lit, w) {
			return false
		}
	}
	return partial || len(args) >= required
}

func contains(list []string, w string) bool {
	for _, l := range list {
		if l == w {
			return true
		}
	}
	return false
}

// lookup finds a command by name or alias.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name || contains(c.aliases, name) {
			return c
		}
	}
	return nil
}

// errQuit ends the shell.
var errQuit = errors.New("quit")

// unknownCommand says that name is no command, with the nearest ones.
func unknownCommand(name string) error {
	if near := suggest(name); len(near) > 0 {
		return fmt.Errorf("unknown command %q; did you mean %s? (help lists the commands)", name, quoteJoin(near))
	}
	return fmt.Errorf("unknown command %q (help lists the commands)", name)
}

func quoteJoin(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = strconv.Quote(w)
	}
	if len(q) > 1 {
		return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
	}
	return q[0]
}

// suggest returns the commands nearest to a mistyped name: those it is the
// start of, else those within an edit distance of about a third of its
// length (at least 1, at most 3).
func suggest(name string) []string {
	var prefixed []string
	for _, c := range commands {
		if strings.HasPrefix(c.name, name) {
			prefixed = append(prefixed, c.name)
		}
	}
	if len(prefixed) > 0 && len(prefixed) <= 3 {
		return prefixed
	}
	limit := min(max(len(name)/3, 1), 3)
	best := limit + 1
	var out []string
	for _, c := range commands {
		for _, n := range append([]string{c.name}, c.aliases...) {
			d := editDistance(name, n)
			switch {
			case d < best:
				best, out = d, []string{n}
			case d == best && !contains(out, n):
				out = append(out, n)
			}
		}
	}
	if best > limit {
		return nil
	}
	sort.Strings(out)
	return out
}

// editDistance is the Levenshtein distance between a and b, with a
// transposition of two neighbours counting as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// restAfter returns what follows the first n words of line, as typed.
func restAfter(line string, n int) string {
	rest := strings.TrimSpace(line)
	for range n {
		i := strings.IndexAny(rest, " \t")
		if i < 0 {
			return ""
		}
		rest = strings.TrimSpace(rest[i:])
	}
	return rest
}

// parse splits a line into a call: the command, its words with $tab and
// $port replaced by the last tab opened and the last port Go got, and the
// form they match.
func (s *shell) parse(line string) (*call, error) {
	words := strings.Fields(line)
	if len(words) == 0 {
		return nil, nil
	}
	cmd := lookup(words[0])
	if cmd == nil {
		return nil, unknownCommand(words[0])
	}
	c := &call{cmd: cmd, line: line, args: words[1:]}
	form, err := cmd.match(c.args)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd.name, err)
	}
	c.form = form
	// Replace the variables in the words, but not in what a rest argument
	// takes as typed.
	for i, w := range c.args {
		if i < len(form) && form[i].rest {
			break
		}
		v, err := s.variable(w)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", cmd.name, err)
		}
		c.args[i] = v
	}
	return c, nil
}

// variable expands $tab, $port and $msg.
func (s *shell) variable(w string) (string, error) {
	if !strings.HasPrefix(w, "$") {
		return w, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch w {
	case "$tab":
		if s.lastTab == 0 {
			return "", errors.New("$tab: no tab opened yet")
		}
		return strconv.Itoa(s.lastTab), nil
	case "$port":
		if s.lastPort == 0 {
			return "", errors.New("$port: no port opened yet")
		}
		return strconv.Itoa(s.lastPort), nil
	case "$msg":
		if s.lastMsg == 0 {
			return "", errors.New("$msg: no message received yet")
		}
		return strconv.Itoa(s.lastMsg), nil
	}
	return "", fmt.Errorf("unknown variable %s (there are $tab, $port and $msg)", w)
}
