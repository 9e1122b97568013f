import { defineTemplate } from '../../platform/notify/templates.ts';

export const verifyEmailTemplate = defineTemplate({
  name: 'accounts.verify-email',
  locales: {
    en: {
      subject: 'Confirm your email address',
      text: 'Hello {{name}},\n\nConfirm your email address to start ordering, bidding and selling:\n{{link}}\n\nThe link expires in {{hours}} hours. If you did not create an account, ignore this email.',
      html: '<p>Hello {{name}},</p><p>Confirm your email address to start ordering, bidding and selling:</p><p><a href="{{link}}">Confirm my email</a></p><p>The link expires in {{hours}} hours. If you did not create an account, ignore this email.</p>',
      title: 'Confirm your email address',
      body: 'Check your inbox for the confirmation link.',
    },
    ko: {
      subject: '이메일 주소를 인증해 주세요',
      text: '{{name}}님, 안녕하세요.\n\n주문, 입찰, 판매를 시작하려면 이메일 주소를 인증해 주세요:\n{{link}}\n\n링크는 {{hours}}시간 후 만료됩니다. 가입하지 않으셨다면 이 메일을 무시하세요.',
      html: '<p>{{name}}님, 안녕하세요.</p><p>주문, 입찰, 판매를 시작하려면 이메일 주소를 인증해 주세요:</p><p><a href="{{link}}">이메일 인증하기</a></p><p>링크는 {{hours}}시간 후 만료됩니다. 가입하지 않으셨다면 이 메일을 무시하세요.</p>',
      title: '이메일 주소를 인증해 주세요',
      body: '받은편지함에서 인증 링크를 확인해 주세요.',
    },
  },
});

export const passwordResetTemplate = defineTemplate({
  name: 'accounts.password-reset',
  locales: {
    en: {
      subject: 'Reset your password',
      text: 'Hello {{name}},\n\nSomeone asked to reset the password of your account. To choose a new one, open:\n{{link}}\n\nThe link works once and expires in {{minutes}} minutes. If it was not you, ignore this email: your password stays as it is.',
      html: '<p>Hello {{name}},</p><p>Someone asked to reset the password of your account.</p><p><a href="{{link}}">Choose a new password</a></p><p>The link works once and expires in {{minutes}} minutes. If it was not you, ignore this email: your password stays as it is.</p>',
    },
    ko: {
      subject: '비밀번호 재설정',
      text: '{{name}}님, 안녕하세요.\n\n계정 비밀번호 재설정이 요청되었습니다. 새 비밀번호를 설정하려면 다음 링크를 여세요:\n{{link}}\n\n링크는 한 번만 사용할 수 있으며 {{minutes}}분 후 만료됩니다. 요청하지 않으셨다면 이 메일을 무시하세요.',
      html: '<p>{{name}}님, 안녕하세요.</p><p>계정 비밀번호 재설정이 요청되었습니다.</p><p><a href="{{link}}">새 비밀번호 설정</a></p><p>링크는 한 번만 사용할 수 있으며 {{minutes}}분 후 만료됩니다. 요청하지 않으셨다면 이 메일을 무시하세요.</p>',
    },
  },
});

export const passwordChangedTemplate = defineTemplate({
  name: 'accounts.password-changed',
  locales: {
    en: {
      subject: 'Your password was changed',
      text: 'Hello {{name}},\n\nThe password of your account was changed and your other sessions were signed out. If this was not you, reset your password now and contact support.',
      title: 'Password changed',
      body: 'Your other sessions were signed out.',
    },
    ko: {
      subject: '비밀번호가 변경되었습니다',
      text: '{{name}}님, 안녕하세요.\n\n계정 비밀번호가 변경되어 다른 기기의 로그인이 해제되었습니다. 본인이 아니라면 지금 비밀번호를 재설정하고 고객센터에 문의하세요.',
      title: '비밀번호 변경됨',
      body: '다른 기기의 로그인이 해제되었습니다.',
    },
  },
});
