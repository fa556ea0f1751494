// Scan files (STL, PLY, OBJ) read into one flat triangle list for the 3D viewer. Loaded lazily
// with the viewer (a separate chunk): nothing here is in the app's initial JS.

export type Mesh = { positions: Float32Array; normals: Float32Array; triangles: number };

export type MeshFormat = "stl" | "ply" | "obj";

export function parseMesh(buffer: ArrayBuffer, format: MeshFormat): Mesh {
  const positions = format === "stl" ? parseStl(buffer) : format === "ply" ? parsePly(buffer) : parseObj(new TextDecoder().decode(buffer));
  if (positions.length === 0 || positions.length % 9 !== 0) throw new Error("no triangles in this file");
  return normalize(positions);
}

function parseStl(buffer: ArrayBuffer): Float32Array {
  const view = new DataView(buffer);
  if (buffer.byteLength >= 84) {
    const count = view.getUint32(80, true);
    if (84 + count * 50 === buffer.byteLength) {
      const out = new Float32Array(count * 9);
      for (let i = 0; i < count; i++) {
        const base = 84 + i * 50 + 12; // skip the stored normal: recomputed from the vertices
        for (let j = 0; j < 9; j++) out[i * 9 + j] = view.getFloat32(base + j * 4, true);
      }
      return out;
    }
  }
  const text = new TextDecoder().decode(buffer);
  const values: number[] = [];
  const vertex = /vertex\s+(\S+)\s+(\S+)\s+(\S+)/g;
  for (let match = vertex.exec(text); match; match = vertex.exec(text)) values.push(Number(match[1]), Number(match[2]), Number(match[3]));
  return new Float32Array(values);
}

const PLY_TYPES: Record<string, [number, (view: DataView, at: number, little: boolean) => number]> = {
  char: [1, (v, a) => v.getInt8(a)],
  int8: [1, (v, a) => v.getInt8(a)],
  uchar: [1, (v, a) => v.getUint8(a)],
  uint8: [1, (v, a) => v.getUint8(a)],
  short: [2, (v, a, l) => v.getInt16(a, l)],
  int16: [2, (v, a, l) => v.getInt16(a, l)],
  ushort: [2, (v, a, l) => v.getUint16(a, l)],
  uint16: [2, (v, a, l) => v.getUint16(a, l)],
  int: [4, (v, a, l) => v.getInt32(a, l)],
  int32: [4, (v, a, l) => v.getInt32(a, l)],
  uint: [4, (v, a, l) => v.getUint32(a, l)],
  uint32: [4, (v, a, l) => v.getUint32(a, l)],
  float: [4, (v, a, l) => v.getFloat32(a, l)],
  float32: [4, (v, a, l) => v.getFloat32(a, l)],
  double: [8, (v, a, l) => v.getFloat64(a, l)],
  float64: [8, (v, a, l) => v.getFloat64(a, l)],
};

type PlyProperty = { name: string; type: string; countType?: string };
type PlyElement = { name: string; count: number; properties: PlyProperty[] };

function parsePly(buffer: ArrayBuffer): Float32Array {
  const head = new TextDecoder().decode(buffer.slice(0, Math.min(buffer.byteLength, 4096)));
  const end = head.indexOf("end_header");
  if (!head.startsWith("ply") || end < 0) throw new Error("not a PLY file");
  const bodyStart = head.indexOf("\n", end) + 1;
  let format = "ascii";
  const elements: PlyElement[] = [];
  for (const line of head.slice(0, end).split(/\r?\n/)) {
    const words = line.trim().split(/\s+/);
    if (words[0] === "format") format = words[1] ?? "ascii";
    if (words[0] === "element") elements.push({ name: words[1] ?? "", count: Number(words[2]), properties: [] });
    if (words[0] === "property") {
      const element = elements[elements.length - 1];
      if (!element) continue;
      if (words[1] === "list") element.properties.push({ countType: words[2], type: words[3] ?? "int", name: words[4] ?? "" });
      else element.properties.push({ type: words[1] ?? "float", name: words[2] ?? "" });
    }
  }
  const vertices: number[][] = [];
  const faces: number[][] = [];
  const collect = (element: PlyElement, record: Record<string, number | number[]>) => {
    if (element.name === "vertex") vertices.push([Number(record.x), Number(record.y), Number(record.z)]);
    if (element.name === "face") faces.push((record.vertex_indices ?? record.vertex_index) as number[]);
  };
  if (format === "ascii") {
    const tokens = new TextDecoder().decode(buffer.slice(bodyStart)).trim().split(/\s+/).map(Number);
    let at = 0;
    for (const element of elements) {
      for (let i = 0; i < element.count; i++) {
        const record: Record<string, number | number[]> = {};
        for (const property of element.properties) {
          if (property.countType) {
            const n = tokens[at++] ?? 0;
            record[property.name] = tokens.slice(at, at + n);
            at += n;
          } else record[property.name] = tokens[at++] ?? 0;
        }
        collect(element, record);
      }
    }
  } else {
    const little = format === "binary_little_endian";
    const view = new DataView(buffer);
    let at = bodyStart;
    const read = (type: string) => {
      const entry = PLY_TYPES[type];
      if (!entry) throw new Error(`PLY type ${type}`);
      const value = entry[1](view, at, little);
      at += entry[0];
      return value;
    };
    for (const element of elements) {
      for (let i = 0; i < element.count; i++) {
        const record: Record<string, number | number[]> = {};
        for (const property of element.properties) {
          if (property.countType) {
            const n = read(property.countType);
            const list: number[] = [];
            for (let k = 0; k < n; k++) list.push(read(property.type));
            record[property.name] = list;
          } else record[property.name] = read(property.type);
        }
        collect(element, record);
      }
    }
  }
  return triangulate(vertices, faces);
}

function parseObj(text: string): Float32Array {
  const vertices: number[][] = [];
  const faces: number[][] = [];
  for (const line of text.split(/\r?\n/)) {
    const words = line.trim().split(/\s+/);
    if (words[0] === "v") vertices.push([Number(words[1]), Number(words[2]), Number(words[3])]);
    if (words[0] === "f") {
      faces.push(
        words.slice(1).map((word) => {
          const index = parseInt(word.split("/")[0] ?? "", 10);
          return index < 0 ? vertices.length + index : index - 1; // OBJ counts from 1; negatives from the end
        }),
      );
    }
  }
  return triangulate(vertices, faces);
}

/** Polygons as fans of triangles, each vertex copied out (flat shading needs no sharing). */
function triangulate(vertices: number[][], faces: number[][]): Float32Array {
  const values: number[] = [];
  for (const face of faces) {
    for (let k = 1; k + 1 < face.length; k++) {
      for (const index of [face[0], face[k], face[k + 1]]) {
        const vertex = vertices[index ?? -1];
        if (!vertex) throw new Error("a face names a missing vertex");
        values.push(vertex[0] ?? 0, vertex[1] ?? 0, vertex[2] ?? 0);
      }
    }
  }
  return new Float32Array(values);
}

/** Centred on the origin and scaled into the unit sphere; one normal per triangle. */
function normalize(positions: Float32Array): Mesh {
  const min = [Infinity, Infinity, Infinity];
  const max = [-Infinity, -Infinity, -Infinity];
  for (let i = 0; i < positions.length; i += 3) {
    for (let axis = 0; axis < 3; axis++) {
      const value = positions[i + axis] ?? 0;
      if (!Number.isFinite(value)) throw new Error("a vertex is not a number");
      min[axis] = Math.min(min[axis] ?? 0, value);
      max[axis] = Math.max(max[axis] ?? 0, value);
    }
  }
  const centre = [0, 1, 2].map((axis) => ((min[axis] ?? 0) + (max[axis] ?? 0)) / 2);
  let radius = 0;
  for (let i = 0; i < positions.length; i += 3) {
    const dx = (positions[i] ?? 0) - (centre[0] ?? 0);
    const dy = (positions[i + 1] ?? 0) - (centre[1] ?? 0);
    const dz = (positions[i + 2] ?? 0) - (centre[2] ?? 0);
    radius = Math.max(radius, Math.hypot(dx, dy, dz));
  }
  const scale = radius > 0 ? 1 / radius : 1;
  const out = new Float32Array(positions.length);
  for (let i = 0; i < positions.length; i++) out[i] = ((positions[i] ?? 0) - (centre[i % 3] ?? 0)) * scale;
  const normals = new Float32Array(positions.length);
  for (let i = 0; i < out.length; i += 9) {
    const ux = out[i + 3]! - out[i]!, uy = out[i + 4]! - out[i + 1]!, uz = out[i + 5]! - out[i + 2]!;
    const vx = out[i + 6]! - out[i]!, vy = out[i + 7]! - out[i + 1]!, vz = out[i + 8]! - out[i + 2]!;
    let nx = uy * vz - uz * vy, ny = uz * vx - ux * vz, nz = ux * vy - uy * vx;
    const length = Math.hypot(nx, ny, nz) || 1;
    nx /= length;
    ny /= length;
    nz /= length;
    for (let k = 0; k < 3; k++) {
      normals[i + k * 3] = nx;
      normals[i + k * 3 + 1] = ny;
      normals[i + k * 3 + 2] = nz;
    }
  }
  return { positions: out, normals, triangles: out.length / 9 };
}
