// Package mcp reads the JSON-RPC bodies clients POST to MCP routes, and
// filters the tools/list answers that come back.
//
// Security is the point: what the gateway decides on must be exactly what
// the upstream reads, whatever its language and JSON parser. So Read and
// Parse refuse anything parsers may read differently, rather than guess:
//
//   - a Content-Type other than application/json (charset utf-8 only), a
//     content coding, or a body over the cap (413, never truncated);
//   - invalid UTF-8, a byte order mark, lone surrogate escapes, control
//     characters in strings, nesting deeper than 128, data after the value;
//   - object keys equal under Unicode case folding, at any depth ("name" and
//     "Name", "s" and "ſ"): parsers keep the first, keep the last, or match
//     either to a struct field; exact duplicates are the simplest case;
//   - in the message object and its params object, keys that are not plain
//     ASCII or that hold escapes ("n\u0061me" is refused, not decoded: no
//     client writes it, and it leaves no doubt about which member a key is),
//     and keys spelt like a member MCP uses without being it ("ID", "i_d",
//     "Params", "na-me"), which case- or delimiter-insensitive decoders such
//     as Go's would read as that member;
//   - anything but jsonrpc, id, method, params in a request, or jsonrpc, id,
//     result, error in a response; ids other than strings and integers;
//     methods that are not printable ASCII without spaces; tools/call names
//     outside the specification's [A-Za-z0-9_.-]{1,128};
//   - batches, except on 2025-03-26 (the revision assumed when the client
//     sends no MCP-Protocol-Version, as the specification says); empty
//     batches; an id twice in a batch, where "1" and 1 count as the same;
//   - Mcp-Method and Mcp-Name headers that are missing on 2026-07-28, or,
//     on any revision, present and unlike the body; a params._meta protocol
//     version unlike the MCP-Protocol-Version header.
//
// Every message of a batch is exposed, notifications and responses
// included, so that policy sees each one.
//
// FilterToolsList, FilterAnswer and FilterSSE fail closed the other way:
// an answer they cannot read for sure is an error, never passed on.
package mcp
