// The JavaScript SDK's protocol.js (clients/js/src, which the web page uses) against docs/asyncapi.yaml's schemas, case by case, with ajv (draft-07).
// stdin: {"document": <the AsyncAPI document as JSON>, "cases": [{"kind": ..., ...}, ...]}
// stdout: one result per case, in order: {"client": <web verdict>, "schema": <schema verdict>, ...}
import fs from 'node:fs';
import Ajv from 'ajv';
import * as protocol from '../../clients/js/src/protocol.js';

const { document, cases } = JSON.parse(fs.readFileSync(0, 'utf8'));
const ajv = new Ajv({ strict: false, allErrors: false, unicodeRegExp: true });
ajv.addSchema(document, 'asyncapi');
const schema = (name) => ajv.getSchema(`asyncapi#/components/schemas/${name}`);

function check(c) {
  switch (c.kind) {
    case 'roomId':
      return { client: protocol.roomIdProblem(c.value) === null, schema: schema('RoomId')(c.value) };
    case 'name': {
      const { problem } = protocol.checkName(c.value);
      return { client: problem === null, schema: schema('Name')(c.value) };
    }
    case 'userId':
      return { client: protocol.userIdProblem(c.value) === null, schema: schema('UserId')(c.value) };
    case 'policy':
      return {
        client: protocol.policyProblem(c.value) === null,
        schema: schema('Policy')(c.value),
      };
    case 'clientMsgId':
      return {
        client: protocol.CLIENT_MSG_ID_RE.test(c.value),
        schema: schema('ClientMsgId')(c.value),
      };
    case 'newClientMsgId': {
      const id = protocol.newClientMsgId();
      return { client: true, schema: schema('ClientMsgId')(id), value: id };
    }
    case 'build': {
      // A frame the web client builds from accepted input must be a valid client frame.
      const frame = protocol.frames[c.action](...c.args);
      const validate = schema('ClientFrame');
      return { client: true, schema: validate(frame), frame, errors: validate.errors };
    }
    case 'sendable': {
      // The client refuses messages whose frame exceeds 32 KB; what it lets through is valid.
      const ok = protocol.messageProblem(c.roomId, c.message, c.clientMsgId) === null;
      const frame = protocol.frames.sendAll(c.roomId, c.message, c.clientMsgId);
      return { client: ok, schema: schema('SendAllRequest')(frame) };
    }
    case 'serverFrame': {
      // Every valid server frame is taken as a frame with its type by the client.
      const parsed = protocol.parseFrame(JSON.stringify(c.frame));
      return {
        client: parsed !== null && parsed.type === c.frame.type,
        schema: schema('ServerFrame')(c.frame),
        errors: schema('ServerFrame').errors,
      };
    }
    default:
      throw new Error(`unknown case kind ${c.kind}`);
  }
}

process.stdout.write(JSON.stringify(cases.map(check)));
