import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { PbIdent, PbMessage, PbtxtSyntaxError, parsePbtxt } from '../../src/repository/pbtxt';

describe('protobuf text format parser', () => {
  it('reads scalars, enums, nested messages, lists and comments', () => {
    const msg = parsePbtxt(`
      # a comment
      name: "fraud"   max_batch_size: 256
      input [ { name: 'features' data_type: TYPE_FP32 dims: [ 44 ] } ]
      dynamic_batching { preferred_batch_size: [ 32, 64 ]; max_queue_delay_microseconds: 3000 }
      parameters { key: "a" value: { string_value: "x\\ty" } }
      parameters: < key: "b" value < string_value: "it's" "joined" > >
      flag: true ratio: -1.5e3 hex: 0x1F
    `);
    assert.deepEqual(msg.all('name'), ['fraud']);
    assert.deepEqual(msg.all('max_batch_size'), [256]);
    const input = msg.all('input')[0] as PbMessage;
    assert.ok(input instanceof PbMessage);
    assert.deepEqual(input.all('dims'), [44]);
    assert.ok(input.all('data_type')[0] instanceof PbIdent);
    assert.equal((input.all('data_type')[0] as PbIdent).name, 'TYPE_FP32');
    const db = msg.all('dynamic_batching')[0] as PbMessage;
    assert.deepEqual(db.all('preferred_batch_size'), [32, 64]);
    const params = msg.all('parameters') as PbMessage[];
    assert.equal(params.length, 2);
    assert.deepEqual(((params[0] as PbMessage).all('value')[0] as PbMessage).all('string_value'), ['x\ty']);
    assert.deepEqual(((params[1] as PbMessage).all('value')[0] as PbMessage).all('string_value'), ["it'sjoined"]);
    assert.deepEqual(msg.all('flag'), [true]);
    assert.deepEqual(msg.all('ratio'), [-1500]);
    assert.deepEqual(msg.all('hex'), [31]);
  });

  it('reports the line and column of a syntax error', () => {
    assert.throws(() => parsePbtxt('name: "x"\ninput { name: "a" '), (err: unknown) => {
      assert.ok(err instanceof PbtxtSyntaxError);
      assert.equal(err.line, 2);
      assert.match(err.message, /expected '}'/);
      return true;
    });
    assert.throws(() => parsePbtxt('name "x"'), /line 1, column 6: expected ':' after 'name'/);
    assert.throws(() => parsePbtxt('name: "x'), /unterminated string/);
  });
});
