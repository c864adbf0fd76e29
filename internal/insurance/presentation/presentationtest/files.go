// Package presentationtest makes the files that presentation tests upload:
// real images of chosen sizes, MP4-shaped videos and files that only
// pretend to be media.
package presentationtest

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
)

func picture(w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 128, A: 255})
		}
	}
	return img
}

// PNG returns a w×h PNG image.
func PNG(w, h int) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, picture(w, h)); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// JPEG returns a w×h JPEG image.
func JPEG(w, h int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, picture(w, h), &jpeg.Options{Quality: 80}); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// WebP returns the header of a w×h lossless WebP image: enough for its
// type and size to be read (no encoder exists in the standard library or
// golang.org/x/image).
func WebP(w, h int) []byte {
	payload := []byte{0x2f, 0, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint32(payload[1:5], uint32(w-1)|uint32(h-1)<<14)
	var b bytes.Buffer
	b.WriteString("RIFF")
	_ = binary.Write(&b, binary.LittleEndian, uint32(4+8+len(payload)+1))
	b.WriteString("WEBPVP8L")
	_ = binary.Write(&b, binary.LittleEndian, uint32(len(payload)))
	b.Write(payload)
	b.WriteByte(0)
	return b.Bytes()
}

// MP4 returns n bytes (at least 40) starting like an MP4 file of major
// brand brand: an ftyp box, then an mdat box of filler.
func MP4(brand string, n int) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, uint32(24))
	b.WriteString("ftyp" + brand)
	_ = binary.Write(&b, binary.BigEndian, uint32(0x200))
	b.WriteString(brand + "mp41")
	_ = binary.Write(&b, binary.BigEndian, uint32(n-b.Len()))
	b.WriteString("mdat")
	for i := 0; b.Len() < n; i++ {
		b.WriteByte(byte(i))
	}
	return b.Bytes()
}

// Padded returns data followed by zeros up to n bytes: a file of the right
// type that is too large.
func Padded(data []byte, n int) []byte {
	out := make([]byte, n)
	copy(out, data)
	return out
}

// HTML is a page that a browser would run if it were served as HTML.
var HTML = []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>")
