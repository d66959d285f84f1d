//go:build deps

// Package deps pins dependencies until the packages that use them land.
package deps

import (
	_ "github.com/Azure/azure-sdk-for-go/sdk/azcore"
	_ "github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	_ "github.com/gocarina/gocsv"
	_ "github.com/jung-kurt/gofpdf"
	_ "github.com/makiuchi-d/gozxing"
	_ "github.com/makiuchi-d/gozxing/multi/qrcode"
	_ "github.com/skip2/go-qrcode"
	_ "github.com/xuri/excelize/v2"
	_ "golang.org/x/image/font/gofont/goregular"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/time/rate"
)

