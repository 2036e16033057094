// Command extbridge launches a real browser with an extension and lets you
// take part in its port messaging by hand.
//
//	extbridge demo  [-browser chromium|firefox]             the MDN runtime.connect example, Go as the content script
//	extbridge run   [-browser …] -ext DIR [-url URL]       an interactive shell: open ports, post, listen, eval
//	extbridge watch [-browser …] -ext DIR [-url URL]       print every port event of the extension
//
// Run `extbridge run -ext DIR` and type `help` for the shell's commands.
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
  extbridge demo  [-browser chromium|firefox] [-headful]
  extbridge run   [-browser chromium|firefox] [-headful] -ext DIR [-ext DIR…] [-url URL]
  extbridge watch [-browser chromium|firefox] [-headful] -ext DIR [-url URL]

demo   runs the MDN runtime.connect example on the embedded pingpong fixture,
       with Go playing the content script, and prints the transcript.
run    starts an interactive shell (type "help") to open ports as the
       background or a content script, listen, post, disconnect and eval.
watch  prints every port the extension's own code opens, every message and
       every disconnect, until interrupted.
`

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "extbridge:", err)
		}
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "demo":
		return demo(args[1:], stdout)
	case "run":
		return shell(args[1:], stdin, stdout)
	case "watch":
		return watch(args[1:], stdout)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
