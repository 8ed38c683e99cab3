/** Node: charts render into a linkedom document (a small DOM without layout, enough for SVG). */
import { parseHTML } from 'linkedom';
import { setChartDocument } from './dom.js';

setChartDocument(parseHTML('<!DOCTYPE html><html><head></head><body></body></html>').document as unknown as Document);
