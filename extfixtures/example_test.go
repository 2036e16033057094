package extfixtures_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/extbridge/extbridge/extfixtures"
)

func ExampleMaterialize() {
	dir, err := os.MkdirTemp("", "fixtures-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ext, err := extfixtures.Materialize("pingpong", dir)
	if err != nil {
		log.Fatal(err)
	}
	// ext is an unpacked extension folder, ready for driver.Options.Extensions.
	for _, f := range []string{"manifest.json", "background.js", "content-script.js"} {
		_, err := os.Stat(filepath.Join(ext, f))
		fmt.Println(f, err == nil)
	}
	// Output:
	// manifest.json true
	// background.js true
	// content-script.js true
}

func ExampleNames() {
	fmt.Println(extfixtures.Names())
	// Output: [breakall echo extpages extpair-a extpair-b hostile messages multiport nativepingpong nolistener nonative pingpong tabsconnect]
}
