package main

import (
	"context"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// completer is the line editor's Tab completion, driven by the command
// table: command names first, then each form's arguments (port numbers,
// tab ids, frame ids, extension indices, realm kinds, command names).
type completer struct{ s *shell }

// Do returns the candidates' remaining runes for the word before pos and
// that word's length, as readline.AutoCompleter wants.
func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	head := string(line[:pos])
	word := head[strings.LastIndexAny(head, " \t")+1:]
	var cands []string
	for _, w := range c.s.candidates(head) {
		if strings.HasPrefix(w, word) {
			cands = append(cands, w)
		}
	}
	out := make([][]rune, len(cands))
	for i, w := range cands {
		out[i] = []rune(w[len(word):] + " ")
	}
	return out, len([]rune(word))
}

// candidates lists what may come as the last word of head (the line up to
// the cursor), whatever its prefix.
func (s *shell) candidates(head string) []string {
	words := strings.Fields(head)
	if len(words) == 0 || (len(words) == 1 && !strings.HasSuffix(head, " ")) {
		return commandNames()
	}
	cmd := lookup(words[0])
	if cmd == nil {
		return nil
	}
	args := words[1:]
	if !strings.HasSuffix(head, " ") && !strings.HasSuffix(head, "\t") {
		args = args[:len(args)-1] // the word being completed
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range cmd.forms {
		if len(args) >= len(f) || !fits(f, args, true) || f[len(args)].comp == nil {
			continue
		}
		c := &call{cmd: cmd, line: head, args: args, form: f}
		for _, w := range f[len(args)].comp(s, c) {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}

func commandNames() []string {
	var out []string
	for _, c := range commands {
		out = append(out, c.name)
	}
	sort.Strings(out)
	return out
}

func compCommand(*shell, *call) []string { return commandNames() }

func compExt(s *shell, _ *call) []string {
	var out []string
	for i := range s.exts() {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func compTab(s *shell, _ *call) []string {
	var out []string
	for _, id := range s.tabIDs() {
		out = append(out, strconv.Itoa(id))
	}
	return out
}

func compPort(s *shell, _ *call) []string {
	var out []string
	for _, pe := range s.openPorts() {
		out = append(out, strconv.Itoa(pe.n))
	}
	return out
}

// compURL offers the fixture pages, when the shell serves them.
func compURL(s *shell, _ *call) []string {
	if s.l == nil || s.l.pages == "" {
		return nil
	}
	var out []string
	for _, p := range []string{"index.html", "frames.html", "csp.html"} {
		out = append(out, s.l.pages+p)
	}
	return out
}

// compFrame asks the browser for the frames of the tab given before the
// FRAME argument (bounded by the shell's completion timeout).
func compFrame(s *shell, c *call) []string {
	ti := -1
	for i, a := range c.form {
		if a.name == "TAB" {
			ti = i
		}
	}
	if ti < 0 || ti >= len(c.args) || s.b == nil {
		return []string{"0"}
	}
	tab, err := strconv.Atoi(c.args[ti])
	if err != nil {
		if v, verr := s.variable(c.args[ti]); verr == nil {
			tab, err = strconv.Atoi(v)
		}
	}
	if err != nil {
		return []string{"0"}
	}
	s.mu.Lock()
	e := s.b.Extensions()[s.curExt]
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(s.ctx, s.complete)
	defer cancel()
	frames, err := e.Frames(ctx, tab)
	if err != nil {
		return []string{"0"}
	}
	var out []string
	for _, f := range frames {
		out = append(out, strconv.Itoa(f.ID))
	}
	return out
}

// compMsg offers the messages that wait for an answer.
func compMsg(s *shell, _ *call) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ns []int
	for n := range s.msgs {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	var out []string
	for _, n := range ns {
		out = append(out, strconv.Itoa(n))
	}
	return out
}
