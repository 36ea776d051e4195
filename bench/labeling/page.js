// The benchmark index.html runs: `?bench=masks` for brush masks and big
// images (masks.js), else 5,000 boxes (bench.js).

const bench = new URLSearchParams(location.search).get('bench');
await import(bench === 'masks' ? './masks.js' : './bench.js');
