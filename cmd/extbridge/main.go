// Command extbridge launches a real browser with an extension and lets you
// take part in its port messaging by hand, or from a script.
//
//	extbridge demo    [-browser chromium|firefox]          the MDN runtime.connect example, Go as the content script
//	extbridge run     [-browser …] -ext DIR [-url URL]    a shell: open ports, post, listen, eval, watch
//	extbridge watch   [-browser …] -ext DIR [-url URL]    print every port event of the extension
//	extbridge version
//
// On a terminal, run is an interactive shell with history and Tab
// completion (type help); with stdin not a terminal, or -script FILE, it
// runs the commands one after another. -json prints one JSON object per
// event or result.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

const usage = `extbridge: take part in a browser extension's port messaging.

usage:
  extbridge demo    [-browser chromium|firefox] [-headful]
  extbridge run     [flags] -ext DIR [-ext DIR…] [-url URL] [-script FILE] [-json]
  extbridge watch   [flags] -ext DIR [-url URL] [-json] [-for DURATION]
  extbridge version
  extbridge help [run|watch|demo]

demo     runs the MDN runtime.connect example on the embedded pingpong fixture,
         with Go playing the content script, and prints the transcript.
run      a shell to open ports as the background or a content script, listen,
         post, recv, disconnect, eval, click the action and watch. On a
         terminal it is interactive (type help); otherwise, or with
         -script FILE, it runs the commands one per line and stops at the
         first error (exit status 1, naming the line) unless -keep-going.
watch    prints every port the extension's own code opens, every message,
         disconnect and console line, until interrupted.

-fixture NAME instead of -ext uses an embedded fixture extension (pingpong,
echo, …) and serves its test pages. -json prints one JSON object per line.
"extbridge help run" lists the flags.
`

func main() {
	err := run(os.Args[1:], stdio{os.Stdin, os.Stdout, os.Stderr})
	os.Exit(exitStatus(err, os.Stderr))
}

// exitStatus prints err (if any) and gives the process's exit status.
func exitStatus(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 2
	}
	fmt.Fprintln(stderr, "extbridge:", err)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func run(args []string, std stdio) error {
	if len(args) == 0 {
		fmt.Fprint(std.err, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "demo":
		return demo(args[1:], std.out)
	case "run":
		return runShell(args[1:], std)
	case "watch":
		return watch(args[1:], std)
	case "version", "-version", "--version":
		fmt.Fprintln(std.out, versionInfo())
		return nil
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			switch args[1] {
			case "run", "watch", "demo":
				return run([]string{args[1], "-h"}, std)
			}
			return fmt.Errorf("help: no command %q (there are demo, run, watch, version)", args[1])
		}
		fmt.Fprint(std.out, usage)
		return nil
	}
	fmt.Fprint(std.err, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
