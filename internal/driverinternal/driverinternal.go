// Package driverinternal gives extbridge's own tests what package driver
// does not export (x/tools' internal hook style): package driver sets the
// hooks when it is initialised.
package driverinternal

// Root returns the temporary folder of a *driver.Browser: its profile and
// its extensions' instrumented copies.
var Root func(browser any) string
