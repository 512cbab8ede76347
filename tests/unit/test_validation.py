from fluxa.validation import flatten_errors


def test_nested_messages_become_dotted_fields():
    messages = {"events": {0: {"type": ["Missing."]}, 2: {"payload": {"x": ["Bad."]}}}}
    assert flatten_errors(messages) == {
        "events.0.type": ["Missing."],
        "events.2.payload.x": ["Bad."],
    }


def test_schema_level_messages_keep_their_key():
    assert flatten_errors({"_schema": ["Not an object."]}) == {"_schema": ["Not an object."]}
    assert flatten_errors(["Oops."]) == {"_schema": ["Oops."]}
