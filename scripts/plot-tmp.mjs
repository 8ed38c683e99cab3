import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';
const { document } = parseHTML('<!doctype html><html><body></body></html>');
const data = [{x:0,y:3e-9,s:'a'},{x:1,y:1e-7,s:'a'},{x:2,y:NaN,s:'a'},{x:3,y:1e-3,s:'a'},{x:4,y:2e-2,s:'a'},{x:0,y:1e-5,s:'b'},{x:4,y:1e-4,s:'b'}];
const svg = Plot.plot({ document, width: 480, height: 320, y: { type: 'log', domain: [1e-9, 1e-1], ticks: [1e-9,1e-5,1e-1], tickFormat: (v) => String(v) , grid: true}, x: {label:'step'},
  marks: [Plot.frame(), Plot.line(data, { x: 'x', y: 'y', z: 's', stroke: 's', clip: true })], color: {range: ['#0072B2', '#D55E00']} });
console.log(svg.outerHTML);
